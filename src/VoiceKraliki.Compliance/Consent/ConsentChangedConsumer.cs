using MassTransit;
using VoiceKraliki.Compliance.Decisions;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Compliance.Consent;

/// <summary>
/// Invalidates the decisions cached for a number when its consent changed. The write path already did, right after
/// its commit; this covers the moment Redis was unreachable then (it throws, so the bus retries until Redis is back).
/// </summary>
public sealed class ConsentChangedConsumer(DecisionCache decisions) : IConsumer<ConsentChanged>
{
    public Task Consume(ConsumeContext<ConsentChanged> context) =>
        decisions.InvalidateAsync(context.Message.PhoneNumberHash, context.CancellationToken, throwOnFailure: true);
}
