namespace VoiceKraliki.Telephony; internal static class Placeholder { }
