/// Every call the lesion and region code makes into the evaluation engine, in one place,
/// so a change to the engine's entry points touches this file only.
enum EngineBridge {
    /// Evaluates label 1 of two binary (0/1) volumes on the same grid under `settings`
    /// (its `labels` is replaced by [1]).
    static func evaluateBinary(reference: LabelVolume, prediction: LabelVolume, settings: EvaluationSettings)
        -> LabelResult
    {
        var single = settings
        single.labels = [1]
        single.toleranceByLabel = [:]
        let evaluation = Evaluator.evaluate(reference: reference, prediction: prediction, settings: single)
        return evaluation.labels[0]
    }

    /// The surface metrics of one lesion pair under `presets` (HD percentile `percentile`):
    /// the two binary masks are cut out of the full grid over `box` (already widened by a
    /// margin of one voxel where the image allows), with the full grid's spacing and the
    /// affine moved to the crop's origin.
    static func pairSurface(
        reference: LabelVolume, prediction: LabelVolume, presets: [Compat], percentile: Double
    ) -> [Compat: SurfaceMetrics] {
        let settings = EvaluationSettings(labels: [1], percentile: percentile, presets: presets, threads: 1)
        return evaluateBinary(reference: reference, prediction: prediction, settings: settings).surface
    }
}
