using VoiceKraliki.Alerting.Signals;

namespace VoiceKraliki.Alerting.Tests.Signals;

/// <summary>The reduced E-model against G.107's R-to-MOS table and points worked by hand.</summary>
public sealed class MosEstimateTests
{
    [Theory]
    // ITU-T G.107 Annex B: R 93.2 (the default, nothing impaired) is MOS 4.41; 80 "satisfied" 4.02; 70 3.60; 60 3.10; 50 2.58.
    [InlineData(93.2, 4.41)]
    [InlineData(80, 4.02)]
    [InlineData(70, 3.60)]
    [InlineData(60, 3.10)]
    [InlineData(50, 2.58)]
    [InlineData(100, 4.50)]
    [InlineData(0, 1.00)]
    [InlineData(-5, 1.00)]
    [InlineData(3, 1.00)]
    [InlineData(120, 4.50)]
    public void R_maps_to_mos_as_in_G107_annex_B(double r, double mos) =>
        Assert.Equal(mos, MosEstimate.MosFromR(r), 0.005);

    [Theory]
    // loss, jitter (ms), delay (ms) -> R, MOS; worked by hand from d = delay + 2·jitter + 10, Id, Ie,eff = 95·Ppl/(Ppl + 4.3).
    [InlineData(0, 0, 0, 92.96, 4.405)]       // d = 10: Id = 0.24
    [InlineData(0.01, 0, 0, 75.035, 3.823)]   // Ie,eff = 95·1/5.3 = 17.92
    [InlineData(0, 100, 0, 84.563, 4.184)]    // d = 210 > 177.3: Id = 5.04 + 0.11·32.7
    [InlineData(0.02, 20, 0, 61.841, 3.195)]
    [InlineData(0.05, 40, 0, 39.965, 2.062)]
    [InlineData(0, 0, 150, 89.36, 4.323)]     // d = 160: Id = 3.84
    public void Loss_jitter_and_delay_give_the_worked_r_and_mos(double loss, double jitter, double delay, double r, double mos)
    {
        Assert.Equal(r, MosEstimate.RFactor(loss, jitter, delay), 3);
        Assert.Equal(mos, MosEstimate.Mos(loss, jitter, delay), 3);
    }

    [Fact]
    public void More_loss_or_jitter_never_raises_the_score()
    {
        var previous = double.MaxValue;
        for (var loss = 0.0; loss <= 1.0; loss += 0.01)
        {
            var mos = MosEstimate.Mos(loss, 20);
            Assert.InRange(mos, 1, 4.5);
            Assert.True(mos <= previous);
            previous = mos;
        }

        Assert.True(MosEstimate.Mos(0.01, 80) < MosEstimate.Mos(0.01, 10));
    }

    [Fact]
    public void Out_of_range_inputs_are_clamped_not_propagated()
    {
        Assert.Equal(MosEstimate.Mos(0, 0), MosEstimate.Mos(double.NaN, -5));
        Assert.Equal(MosEstimate.Mos(1, 0), MosEstimate.Mos(7, 0));
    }
}
