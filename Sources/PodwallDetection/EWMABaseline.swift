/// Exponentially weighted mean and variance of a per-interval quantity
/// (Finch 2009 incremental form: var ← (1−λ)(var + λ·d²) with d = x − mean).
public struct EWMABaseline: Sendable, Equatable {
    public private(set) var mean = 0.0
    public private(set) var variance = 0.0
    public private(set) var observations = 0

    public init() {}

    public var sigma: Double { variance.squareRoot() }

    public mutating func update(_ value: Double, lambda: Double) {
        if observations == 0 {
            mean = value
            variance = 0
        } else {
            let delta = value - mean
            mean += lambda * delta
            variance = (1 - lambda) * (variance + lambda * delta * delta)
        }
        observations += 1
    }

    /// The level a value must exceed to be anomalous: mean + k·σ, with σ floored at
    /// `minRelativeSigma`·mean (an EWMA σ of a near-constant series collapses, and ±5 % noise
    /// would then look like a spike), and never below `floor`.
    public func threshold(k: Double, minRelativeSigma: Double, floor: Double) -> Double {
        max(mean + k * max(sigma, minRelativeSigma * mean), floor)
    }
}
