namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// A mean opinion score from packet loss, jitter and one-way delay with the ITU-T G.107 E-model reduced as is usual for
/// VoIP monitoring (Cole and Rosenbluth, "Voice over IP performance monitoring", 2001), for G.711 at G.107's defaults:
/// <code>
/// d      = delay + 2·jitter + 10 ms                     effective one-way delay: a jitter buffer of twice the jitter, 10 ms of coding
/// Id     = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)       delay impairment; H(x) = 1 when x &gt; 0, else 0
/// Ie,eff = 95 · Ppl / (Ppl + 4.3)                        loss impairment (G.107 §7.4, Ie = 0 and Bpl = 4.3 for G.711, random loss)
/// R      = 93.2 − Id − Ie,eff                            93.2: R with G.107's default values and no impairment
/// MOS    = 1 if R &lt; 0; 4.5 if R &gt; 100; else 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R)   (G.107 Annex B; at least 1)
/// </code>
/// Ppl is the packet loss in percent.
/// </summary>
public static class MosEstimate
{
    /// <summary>R with G.107's default values and no impairment.</summary>
    public const double DefaultR = 93.2;

    /// <summary>Bpl of G.711 without packet-loss concealment (G.113 Appendix I).</summary>
    public const double G711LossRobustness = 4.3;

    public static double Mos(double lossRatio, double jitterMilliseconds, double delayMilliseconds = 0) =>
        MosFromR(RFactor(lossRatio, jitterMilliseconds, delayMilliseconds));

    public static double RFactor(double lossRatio, double jitterMilliseconds, double delayMilliseconds = 0)
    {
        var lossPercent = Math.Clamp(double.IsNaN(lossRatio) ? 0 : lossRatio, 0, 1) * 100;
        var jitter = Math.Max(0, double.IsNaN(jitterMilliseconds) ? 0 : jitterMilliseconds);
        var delay = Math.Max(0, double.IsNaN(delayMilliseconds) ? 0 : delayMilliseconds);

        var effectiveDelay = delay + (2 * jitter) + 10;
        var delayImpairment = (0.024 * effectiveDelay) + (effectiveDelay > 177.3 ? 0.11 * (effectiveDelay - 177.3) : 0);
        var lossImpairment = 95 * lossPercent / (lossPercent + G711LossRobustness);
        return DefaultR - delayImpairment - lossImpairment;
    }

    public static double MosFromR(double r) => r switch
    {
        < 0 => 1,
        > 100 => 4.5,
        // The polynomial dips just under 1 for R below about 6.5; a score is never below the scale.
        _ => Math.Max(1, 1 + (0.035 * r) + (7e-6 * r * (r - 60) * (100 - r))),
    };
}
