namespace VoiceKraliki.ServiceDefaults; public static class Extensions { }
