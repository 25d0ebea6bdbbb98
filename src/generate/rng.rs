//! A small seeded pseudo-random generator and the distributions the datasets use.
//!
//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014) is used because a stream can be derived from any `(seed, stream, index)`
//! triple in one step. Each chunk of output gets its own stream, so the bytes do not depend
//! on how many threads generate them. The output only has to look random to a benchmark, so
//! the generator need not be cryptographic.

/// The SplitMix64 increment (the golden ratio in 64-bit fixed point).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Mixes 64 bits into 64 bits (the SplitMix64 finalizer). The function is a bijection, so
/// distinct inputs give distinct outputs.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A SplitMix64 generator.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// Creates the generator of one stream: `stream` names the purpose (users, emails, ...)
    /// and `index` the chunk.
    pub fn for_stream(seed: u64, stream: u64, index: u64) -> Rng {
        let state = mix(mix(seed ^ mix(stream.wrapping_add(GOLDEN))) ^ index);
        Rng { state }
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Returns a float uniform in `[0, 1)`, from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Returns an integer uniform in `0..bound`, or 0 when `bound` is 0 (Lemire's
    /// multiply-shift, whose bias is below 2^-32 for the bounds used here).
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Returns an integer uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// Returns true with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Returns the number of failures before the first success of trials that succeed with
    /// probability `1 - q`, capped at `max`; its mean is `q / (1 - q)` without the cap.
    pub fn geometric(&mut self, q: f64, max: u64) -> u64 {
        let mut count = 0;
        while count < max && self.unit() < q {
            count += 1;
        }
        count
    }
}

/// A Zipf distribution over the ranks `0..n`: rank `r` has weight `1 / (r + 1)^s`.
///
/// Sampling inverts a cumulative table by binary search, which costs 8 bytes per rank
/// (40 MB for 5 million users) and about `log2 n` steps per draw.
#[derive(Clone, Debug)]
pub(crate) struct Zipf {
    cumulative: Vec<f64>,
}

impl Zipf {
    /// Builds the table for `n` ranks and exponent `s`. An `n` of 0 gives a distribution that
    /// always returns 0.
    pub fn new(n: u64, s: f64) -> Zipf {
        let mut cumulative = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut total = 0.0;
        for rank in 0..n {
            total += ((rank + 1) as f64).powf(-s);
            cumulative.push(total);
        }
        if total > 0.0 {
            for value in &mut cumulative {
                *value /= total;
            }
        }
        Zipf { cumulative }
    }

    /// Draws a rank.
    pub fn sample(&self, rng: &mut Rng) -> u64 {
        let u = rng.unit();
        let rank = self.cumulative.partition_point(|c| *c <= u);
        rank.min(self.cumulative.len().saturating_sub(1)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible() {
        let mut a = Rng::for_stream(7, 1, 3);
        let mut b = Rng::for_stream(7, 1, 3);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn streams_differ_by_index_and_purpose() {
        let first = Rng::for_stream(7, 1, 3).next_u64();
        assert_ne!(first, Rng::for_stream(7, 1, 4).next_u64());
        assert_ne!(first, Rng::for_stream(7, 2, 3).next_u64());
        assert_ne!(first, Rng::for_stream(8, 1, 3).next_u64());
    }

    #[test]
    fn below_stays_in_bound() {
        let mut rng = Rng::for_stream(1, 1, 1);
        for bound in [1, 2, 3, 10, 1_000_003] {
            for _ in 0..1_000 {
                assert!(rng.below(bound) < bound);
            }
        }
        assert_eq!(rng.below(0), 0);
    }

    #[test]
    fn geometric_mean_near_expected() {
        let mut rng = Rng::for_stream(1, 2, 3);
        let draws = 200_000;
        let total: u64 = (0..draws).map(|_| rng.geometric(0.375, 1_000)).sum();
        let mean = total as f64 / draws as f64;
        assert!((mean - 0.6).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn zipf_rank_zero_is_most_frequent() {
        let zipf = Zipf::new(1_000, 1.0);
        let mut rng = Rng::for_stream(3, 3, 3);
        let mut counts = vec![0u32; 1_000];
        for _ in 0..100_000 {
            counts[zipf.sample(&mut rng) as usize] += 1;
        }
        // Rank 0 has weight 1 / H(1000) ≈ 0.134; rank 9 has a tenth of that.
        assert!(counts[0] > 12_000 && counts[0] < 14_800, "rank 0: {}", counts[0]);
        assert!(counts[0] > 5 * counts[9]);
    }

    #[test]
    fn zipf_of_one_rank_returns_zero() {
        let mut rng = Rng::for_stream(3, 3, 3);
        assert_eq!(Zipf::new(1, 1.0).sample(&mut rng), 0);
        assert_eq!(Zipf::new(0, 1.0).sample(&mut rng), 0);
    }
}
