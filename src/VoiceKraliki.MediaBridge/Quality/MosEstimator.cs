namespace VoiceKraliki.MediaBridge.Quality;

/// <summary>
/// A mean opinion score estimated from loss, jitter and delay with a reduced ITU-T G.107 E-model (the simplification
/// of Cole and Rosenbluth, "Voice over IP performance monitoring", 2001), for G.711 at its default values:
/// <code>
/// d     = delay + 2·jitter + 10 ms                       effective one-way delay (a jitter buffer of twice the jitter, 10 ms of coding)
/// Id    = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)        delay impairment; H(x) = 1 when x &gt; 0, else 0
/// Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl + Bpl)            loss impairment (G.107 §7.4, random loss: BurstR = 1)
///          Ie = 0 (G.711), Bpl = 4.3 (G.711 without packet-loss concealment, G.113 Appendix I: we conceal nothing)
/// R     = 93.2 − Id − Ie,eff
/// MOS   = 1 if R &lt; 0; 4.5 if R &gt; 100; else 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R)
/// </code>
/// Ppl is the loss in percent. The delay is only what we can see (the time frames spend in our own buffer): the
/// provider's network delay is not observable on the media stream, so the score is an upper bound for the call.
/// </summary>
internal static class MosEstimator
{
    public const double DefaultR = 93.2;
    public const double G711LossRobustness = 4.3;

    public static double Estimate(double lossRatio, double jitterMilliseconds, double delayMilliseconds) =>
        ToMos(RFactor(lossRatio, jitterMilliseconds, delayMilliseconds));

    public static double RFactor(double lossRatio, double jitterMilliseconds, double delayMilliseconds)
    {
        var loss = Math.Clamp(double.IsNaN(lossRatio) ? 0 : lossRatio, 0, 1) * 100;
        var jitter = Math.Max(0, double.IsNaN(jitterMilliseconds) ? 0 : jitterMilliseconds);
        var delay = Math.Max(0, double.IsNaN(delayMilliseconds) ? 0 : delayMilliseconds);

        var effectiveDelay = delay + (2 * jitter) + 10;
        var delayImpairment = (0.024 * effectiveDelay) + (effectiveDelay > 177.3 ? 0.11 * (effectiveDelay - 177.3) : 0);
        var lossImpairment = 95 * loss / (loss + G711LossRobustness);
        return DefaultR - delayImpairment - lossImpairment;
    }

    public static double ToMos(double r) => r switch
    {
        < 0 => 1,
        > 100 => 4.5,
        _ => 1 + (0.035 * r) + (7e-6 * r * (r - 60) * (100 - r)),
    };
}
