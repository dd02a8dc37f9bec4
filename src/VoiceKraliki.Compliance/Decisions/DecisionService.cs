using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Decisions;

/// <summary>
/// Answers "may this call's audio be used for this purpose": regions from the numbers, the consents on file for the
/// parties that need one, through the <see cref="DecisionCache"/>. Every answer, cached or not, is audited.
/// </summary>
public sealed partial class DecisionService(
    RegionDirectory regions,
    ConsentStore consents,
    DecisionCache cache,
    AuditLog audit,
    TimeProvider timeProvider,
    ILogger<DecisionService> logger)
{
    public async Task<Decision> DecideAsync(string purpose, PhoneNumber from, PhoneNumber to, string actor, CancellationToken cancellationToken)
    {
        var consentType = DecisionRules.Purposes[purpose];
        var fromHash = consents.HashOf(from);
        var toHash = consents.HashOf(to);

        // The generations are read before Postgres: see DecisionCache.
        var key = await cache.KeyAsync(purpose, fromHash, toHash, cancellationToken);
        var decision = key is null ? null : await cache.GetAsync(key, cancellationToken) is { } hit ? hit with { Cached = true } : null;
        if (decision is null)
        {
            var fromRegion = regions.Lookup(from);
            var toRegion = regions.Lookup(to);
            var (fromNeed, toNeed) = DecisionRules.Requirements(fromRegion, toRegion);
            var fromConsent = fromNeed.ConsentRequired ? await consents.ActiveAsync(fromHash, consentType, cancellationToken) : null;
            var toConsent = toNeed.ConsentRequired ? await consents.ActiveAsync(toHash, consentType, cancellationToken) : null;
            decision = DecisionRules.Decide(
                purpose,
                consentType,
                ("from", from, fromRegion, fromNeed, fromConsent),
                ("to", to, toRegion, toNeed, toConsent),
                timeProvider.GetUtcNow());
            if (key is not null)
            {
                await cache.SetAsync(key, decision, cancellationToken);
            }
        }

        await audit.AppendAsync(new AuditRecord(
            "decision",
            actor,
            null,
            new Dictionary<string, object?>
            {
                ["purpose"] = purpose,
                ["allowed"] = decision.Allowed,
                ["announcementRequired"] = decision.AnnouncementRequired,
                ["parties"] = decision.Parties.Select(p => new Dictionary<string, object?>
                {
                    ["role"] = p.Role,
                    ["number"] = p.Number,
                    ["region"] = p.Region,
                    ["subdivision"] = p.Subdivision,
                    ["rule"] = p.Rule,
                    ["consentEventId"] = p.ConsentEventId,
                }).ToList(),
                ["cached"] = decision.Cached,
            }), cancellationToken);
        LogDecided(logger, purpose, decision.Allowed, decision.Cached, from.Masked, to.Masked);
        return decision;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Decision {Purpose}: allowed {Allowed} (cached {Cached}) for {From} → {To}")]
    private static partial void LogDecided(ILogger logger, string purpose, bool allowed, bool cached, string from, string to);
}
