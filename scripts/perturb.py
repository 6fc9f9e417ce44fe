"""Deterministic perturbations of label maps, the errors segmentation models make: per label
a shift, a dilation or an erosion by one voxel, one label removed, spurious islands, and
boundary voxels dropped. Used by scripts/make_samples.py and scripts/bench."""
import numpy as np


def shift(mask, offset):
    out = np.zeros_like(mask)
    src = tuple(slice(max(0, -o), mask.shape[a] - max(0, o)) for a, o in enumerate(offset))
    dst = tuple(slice(max(0, o), mask.shape[a] - max(0, -o)) for a, o in enumerate(offset))
    out[dst] = mask[src]
    return out


def dilate(mask, steps=1):
    for _ in range(steps):
        grown = mask.copy()
        for axis in range(mask.ndim):
            for step in (1, -1):
                grown |= shift(mask, tuple(step if a == axis else 0 for a in range(mask.ndim)))
        mask = grown
    return mask


def erode(mask, steps=1):
    return ~dilate(~mask, steps)


def _box(mask):
    idx = np.nonzero(mask)
    lo = [max(0, int(v.min()) - 2) for v in idx]
    hi = [int(v.max()) + 3 for v in idx]
    return tuple(slice(a, b) for a, b in zip(lo, hi))


def perturb(reference, seed=7, drop=0.05, islands=3):
    """Returns a perturbed copy of `reference` (labels as integers, 0 background)."""
    prediction = reference.copy()
    labels = [int(v) for v in np.unique(reference) if v != 0]
    rng = np.random.default_rng(seed)
    for label in labels:
        box = _box(reference == label)
        mask = reference[box] == label
        view = prediction[box]
        action = label % 6
        if action == 0:
            view[mask & (view == label)] = 0
            view[shift(mask, (1, 0, 0)) & (view == 0)] = label
        elif action == 1:
            view[dilate(mask) & (view == 0)] = label
        elif action == 2:
            view[mask & ~erode(mask)] = 0
        elif action == 3:
            view[mask & (view == label)] = 0
            view[shift(mask, (0, -1, 1)) & (view == 0)] = label
    if len(labels) > 10:
        prediction[prediction == labels[10]] = 0  # one structure missed
    shape = np.array(reference.shape)
    for n in range(islands):
        centre = (shape * rng.uniform(0.3, 0.7, 3)).astype(int)
        lo = np.maximum(centre - 2, 0)
        prediction[lo[0]:lo[0] + 3, lo[1]:lo[1] + 3, lo[2]:lo[2] + 3] = labels[(3 + 7 * n) % len(labels)]
    edge = (prediction > 0) & ~erode(prediction > 0)
    prediction[edge & (rng.random(prediction.shape) < drop)] = 0
    return prediction
