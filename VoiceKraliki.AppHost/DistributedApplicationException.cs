namespace VoiceKraliki.AppHost;

/// <summary>The AppHost cannot do what was asked; the message says why and what to do.</summary>
public class DistributedApplicationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Another AppHost already uses the state folder.</summary>
public sealed class AppHostAlreadyRunningException(string message) : DistributedApplicationException(message);
