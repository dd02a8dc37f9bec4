// The AppHost starts Linux servers as Linux users; so do its tests.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
