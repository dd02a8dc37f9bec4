using System.Text.Json.Serialization;

namespace VoiceKraliki.Contracts;

[JsonConverter(typeof(JsonStringEnumConverter<TelephonyProvider>))]
public enum TelephonyProvider
{
    Twilio,
    Telnyx,
}

/// <summary>The seven states of a call in VoiceKraliki.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CallStatus>))]
public enum CallStatus
{
    Initiated,
    Ringing,
    Answered,
    OnHold,
    Transferring,
    Completed,
    Failed,
}

[JsonConverter(typeof(JsonStringEnumConverter<CallDirection>))]
public enum CallDirection
{
    Unknown,
    Inbound,
    Outbound,
}

/// <summary>Why a call ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CallEndReason>))]
public enum CallEndReason
{
    None,
    Normal,
    Busy,
    NoAnswer,
    Canceled,
    Rejected,
    Failed,
    TimeLimit,
    MachineDetected,
    Unknown,
}
