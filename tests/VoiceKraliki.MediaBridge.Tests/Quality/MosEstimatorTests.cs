using VoiceKraliki.MediaBridge.Quality;

namespace VoiceKraliki.MediaBridge.Tests.Quality;

public class MosEstimatorTests
{
    [Fact]
    public void A_clean_stream_scores_as_toll_quality_G711()
    {
        // d = 10 ms: R = 93.2 − 0.024·10 = 92.96; MOS = 1 + 0.035·92.96 + 7e-6·92.96·32.96·7.04 = 4.4046.
        Assert.Equal(92.96, MosEstimator.RFactor(0, 0, 0), 6);
        Assert.Equal(4.4046, MosEstimator.Estimate(0, 0, 0), 3);
    }

    [Fact]
    public void Two_percent_loss_without_concealment_costs_about_a_point()
    {
        // Ie,eff = 95·2/(2 + 4.3) = 30.159; R = 92.96 − 30.159 = 62.80; MOS = 1 + 2.198 + 7e-6·62.80·2.80·37.20 = 3.244.
        Assert.Equal(62.80, MosEstimator.RFactor(0.02, 0, 0), 2);
        Assert.Equal(3.244, MosEstimator.Estimate(0.02, 0, 0), 2);
    }

    [Fact]
    public void Delay_past_177_ms_costs_more_per_millisecond()
    {
        // d = 150 + 2·20 + 10 = 200 ms: Id = 0.024·200 + 0.11·(200 − 177.3) = 4.8 + 2.497 = 7.297.
        Assert.Equal(93.2 - 7.297, MosEstimator.RFactor(0, 20, 150), 6);
    }

    [Fact]
    public void The_score_falls_with_loss_and_jitter_and_stays_between_1_and_4_5()
    {
        Assert.True(MosEstimator.Estimate(0.01, 0, 0) > MosEstimator.Estimate(0.05, 0, 0));
        Assert.True(MosEstimator.Estimate(0, 5, 0) > MosEstimator.Estimate(0, 100, 0));
        Assert.Equal(1, MosEstimator.Estimate(1, 500, 1000));
        Assert.Equal(4.5, MosEstimator.ToMos(120));
        Assert.Equal(1, MosEstimator.ToMos(-5));
    }
}
