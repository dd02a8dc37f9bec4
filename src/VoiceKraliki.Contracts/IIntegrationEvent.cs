namespace VoiceKraliki.Contracts; public interface IIntegrationEvent { Guid EventId { get; } }
