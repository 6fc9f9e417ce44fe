#!/usr/bin/env python3
"""Cross-check `maskeval compare --compat meshmetrics` against MeshMetrics 0.2.1's pipeline
rebuilt on VTK from PyPI, and store the peer's values for the tests.

MeshMetrics 0.2.1 (github.com/gasperpodobnik/MeshMetrics) is not on PyPI (PyPI's
`pymeshmetrics` 1.4 meshes with discrete marching cubes, another surface), so its 3-D path
is rebuilt here step by step, per label:
  1. the binary mask, cropped to the label's union box and padded by one background voxel,
     as vtkImageData with the spacing (identity direction: distances in index space x
     spacing, METRICS.md);
  2. vtkSurfaceNets3D, SmoothingOff, SetOutputMeshTypeToTriangles (the voxel-face surface,
     faces cut along the index-space anti-diagonal);
  3. vtkDistancePolyDataFilter with ComputeCellCenterDistanceOn and ComputeSecondDistanceOn
     (distance of each triangle centroid to the other mesh), vtkCellSizeFilter areas;
  4. MeshMetrics' reductions: distances sorted by |d|, HDq = d[searchsorted(cumsum(a)/sum(a),
     q/100)], area-weighted means, NSD = area with |d| <= tau over all area;
  5. BIoU per METRICS.md: mask voxels whose centre is closer than tau to their own mesh
     (vtkImplicitPolyDataDistance, evaluated where a scipy EDT bound cannot decide).

VTK stores the mesh points in float32. Each label is run twice: with VTK's float32 points
(`vtk32`, MeshMetrics as it runs) and with the points snapped to the exact voxel corners in
float64 (`vtk64`); their difference is VTK's float32 noise, reported per case. The stored
expected values are `vtk64`; the tests compare MaskEval with them within
1e-4 mm + 1e-5 relative. NSD and BIoU are stored at tau = 1.2345 mm, where no distance of these
grids lies exactly on tau (at tau = 1 mm many do, and float32 rounding decides them).

Oblique-affine pairs are also meshed once with the affine's direction in VTK (world
coordinates), to measure how float32 rounding there changes the cut diagonal
(`oblique_world_vs_index`): reported, not stored as expected values.

Usage (outside CI; needs /work/venv-mesh or any venv with vtk numpy nibabel scipy):
  scripts/cross_check_mesh.py --make-fixtures     # writes Tests/Fixtures/meshmetrics/*.nii.gz
  scripts/cross_check_mesh.py --store             # runs the peer, writes expected.json
  scripts/cross_check_mesh.py --compare           # runs the built maskeval, prints differences
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import vtk
from scipy import ndimage
from vtk.util.numpy_support import numpy_to_vtk, vtk_to_numpy

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "meshmetrics")
TAU = 1.2345
PERCENTILE = 95
KEYS = ("hausdorff_mm", "hd95_mm", "assd_mm", "masd_mm", "asd_prediction_to_reference_mm",
        "asd_reference_to_prediction_mm", "nsd")

CASES = {
    # name: (reference, prediction) relative to the repository root
    "jhu_sample": ("SampleVolumes/jhu_wm_2mm_reference.nii.gz", "SampleVolumes/jhu_wm_2mm_prediction.nii.gz"),
    "abdomen_sample": ("SampleVolumes/abdomen_ct_reference.nii.gz", "SampleVolumes/abdomen_ct_prediction.nii.gz"),
    "anisotropic": ("Tests/Fixtures/meshmetrics/anisotropic_reference.nii.gz",
                    "Tests/Fixtures/meshmetrics/anisotropic_prediction.nii.gz"),
    "oblique": ("Tests/Fixtures/meshmetrics/oblique_reference.nii.gz",
                "Tests/Fixtures/meshmetrics/oblique_prediction.nii.gz"),
    "border": ("Tests/Fixtures/meshmetrics/border_reference.nii.gz",
               "Tests/Fixtures/meshmetrics/border_prediction.nii.gz"),
    "contacts": ("Tests/Fixtures/meshmetrics/contacts_reference.nii.gz",
                 "Tests/Fixtures/meshmetrics/contacts_prediction.nii.gz"),
}


# ---------------------------------------------------------------- fixtures

def blobs(shape, rng, count, label_count):
    """Labels 1..label_count, each a union of `count` random ellipsoids (index space)."""
    out = np.zeros(shape, np.uint8)
    grid = np.indices(shape).astype(float)
    for label in range(1, label_count + 1):
        for _ in range(count):
            centre = rng.uniform(0.15, 0.85, 3) * np.array(shape)
            radii = rng.uniform(0.08, 0.22, 3) * np.array(shape)
            inside = sum(((grid[a] - centre[a]) / radii[a]) ** 2 for a in range(3)) <= 1
            out[inside & (out == 0)] = label
    return out


def perturb(labels, rng):
    """A prediction: each label shifted by up to 2 voxels, dilated or eroded, with boundary
    voxels dropped at random and a small spurious island."""
    out = np.zeros_like(labels)
    for label in np.unique(labels[labels > 0]):
        mask = labels == label
        mask = np.roll(mask, tuple(rng.integers(-2, 3, 3)), axis=(0, 1, 2))
        if rng.random() < 0.5:
            mask = ndimage.binary_dilation(mask)
        else:
            mask = ndimage.binary_erosion(mask) | (mask & (rng.random(mask.shape) < 0.3))
        edge = mask & ~ndimage.binary_erosion(mask)
        mask &= ~(edge & (rng.random(mask.shape) < 0.1))
        corner = tuple(rng.integers(0, s - 3) for s in mask.shape)
        mask[corner[0]:corner[0] + 2, corner[1]:corner[1] + 3, corner[2]:corner[2] + 2] = True
        out[mask & (out == 0)] = label
    return out


def rotation(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    a = math.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + math.sin(a) * k + (1 - math.cos(a)) * k @ k


def save(name, ref, pred, affine):
    os.makedirs(FIXTURES, exist_ok=True)
    for side, data in (("reference", ref), ("prediction", pred)):
        img = nib.Nifti1Image(data.astype(np.uint8), affine)
        img.set_sform(affine, 1)
        img.set_qform(affine, 1)
        nib.save(img, os.path.join(FIXTURES, "%s_%s.nii.gz" % (name, side)))


def make_fixtures():
    rng = np.random.default_rng(17)
    # Anisotropic: 0.7 x 1.3 x 2.9 mm, three labels.
    ref = blobs((40, 32, 14), rng, 3, 3)
    save("anisotropic", ref, perturb(ref, rng), np.diag([0.7, 1.3, 2.9, 1.0]))
    # Oblique: the same kind of pair under a rotated, anisotropic affine with an origin.
    ref = blobs((36, 30, 20), rng, 2, 2)
    affine = np.eye(4)
    affine[:3, :3] = rotation((1, 2, 3), 33) @ np.diag([0.9, 1.1, 1.7])
    affine[:3, 3] = (-41.5, 17.25, 3.0)
    save("oblique", ref, perturb(ref, rng), affine)
    # Border-touching: labels cut by the image edge on every side.
    ref = blobs((24, 22, 16), rng, 4, 2)
    ref[0, 5:15, 3:9] = 1
    ref[-1, 2:9, 4:12] = 2
    ref[4:12, :, 0] = 1
    pred = perturb(ref, rng)
    pred[:, -1, 5:10] = 2
    pred[10:20, 10:20, -1] = 1
    save("border", ref, pred, np.diag([1.0, 1.0, 1.5, 1.0]))
    # Contacts: voxels touching only along an edge or at a corner, single voxels, thin sheets.
    ref = np.zeros((12, 11, 10), np.uint8)
    pred = np.zeros_like(ref)
    ref[3, 3, 3] = ref[4, 4, 3] = ref[5, 5, 4] = 1  # edge and corner contacts
    ref[2:9, 7, 2:8] = 1  # a one-voxel-thick sheet
    pred[3, 3, 3] = pred[4, 3, 3] = pred[6, 6, 5] = 1
    pred[2:9, 8, 3:8] = 1
    ref[8, 2, 8] = 2
    pred[9, 2, 8] = pred[8, 3, 7] = 2
    save("contacts", ref, pred, np.diag([0.8, 1.2, 1.0, 1.0]))


# ---------------------------------------------------------------- the peer

def surface_nets(mask, spacing, direction=None, exact=False):
    """MeshMetrics 0.2.1's `vtk_3D_meshing` on a mask padded by one voxel (index origin 0).
    With `exact`, the float32 points are snapped to the exact voxel corners in float64."""
    padded = np.pad(mask.astype(np.uint8), 1)
    img = vtk.vtkImageData()
    img.SetDimensions(*padded.shape)
    img.SetSpacing(*spacing)
    img.SetOrigin(0.0, 0.0, 0.0)
    if direction is not None:
        img.SetDirectionMatrix(*direction.ravel().tolist())
    img.GetPointData().SetScalars(numpy_to_vtk(padded.ravel(order="F"), deep=True))
    nets = vtk.vtkSurfaceNets3D()
    nets.SmoothingOff()
    nets.SetOutputMeshTypeToTriangles()
    nets.SetInputData(img)
    nets.Update()
    mesh = vtk.vtkPolyData()
    mesh.DeepCopy(nets.GetOutput())
    if exact:
        points = vtk_to_numpy(mesh.GetPoints().GetData()).astype(np.float64)
        s = np.asarray(spacing, float)
        snapped = (np.rint(points / s + 0.5) - 0.5) * s
        assert np.abs(snapped - points).max() < 1e-3 * s.min()
        exact_points = vtk.vtkPoints()
        exact_points.SetData(numpy_to_vtk(np.ascontiguousarray(snapped), deep=True))
        mesh.SetPoints(exact_points)
    return mesh


def cell_areas(mesh):
    sizes = vtk.vtkCellSizeFilter()
    sizes.SetInputData(mesh)
    sizes.ComputeAreaOn()
    sizes.ComputeLengthOff()
    sizes.ComputeVolumeOff()
    sizes.ComputeVertexCountOff()
    sizes.Update()
    return vtk_to_numpy(sizes.GetOutput().GetCellData().GetArray("Area")).astype(float)


def directed(ref_mesh, pred_mesh):
    """MeshMetrics' `vtk_measurements_3D`: (d_ref2pred, a_ref, d_pred2ref, a_pred)."""
    f = vtk.vtkDistancePolyDataFilter()
    f.SetInputData(0, ref_mesh)
    f.SetInputData(1, pred_mesh)
    f.SignedDistanceOn()
    f.ComputeCellCenterDistanceOn()
    f.ComputeSecondDistanceOn()
    f.Update()
    d_rp = np.abs(vtk_to_numpy(f.GetOutput().GetCellData().GetArray("Distance")).astype(float))
    d_pr = np.abs(vtk_to_numpy(f.GetSecondDistanceOutput().GetCellData().GetArray("Distance")).astype(float))
    return d_rp, cell_areas(ref_mesh), d_pr, cell_areas(pred_mesh)


def percentile(d, a, q):
    order = np.argsort(d, kind="stable")
    d, a = d[order], a[order]
    cumulative = np.cumsum(a) / np.sum(a)
    index = min(int(np.searchsorted(cumulative, q / 100.0)), len(d) - 1)
    return float(d[index])


def reductions(d_rp, a_rp, d_pr, a_pr, tau, q):
    mean_rp = float(np.dot(d_rp, a_rp) / a_rp.sum())
    mean_pr = float(np.dot(d_pr, a_pr) / a_pr.sum())
    return {
        "hausdorff_mm": max(percentile(d_rp, a_rp, 100), percentile(d_pr, a_pr, 100)),
        "hd95_mm": max(percentile(d_rp, a_rp, q), percentile(d_pr, a_pr, q)),
        "assd_mm": float((np.dot(d_rp, a_rp) + np.dot(d_pr, a_pr)) / (a_rp.sum() + a_pr.sum())),
        "masd_mm": (mean_rp + mean_pr) / 2,
        "asd_reference_to_prediction_mm": mean_rp,
        "asd_prediction_to_reference_mm": mean_pr,
        "nsd": float((a_rp[d_rp <= tau].sum() + a_pr[d_pr <= tau].sum()) / (a_rp.sum() + a_pr.sum())),
    }


def boundary_band(mask, mesh, spacing, tau):
    """Mask voxels whose centre is strictly closer than tau to `mesh` (in the padded frame of
    `surface_nets`: voxel (i, j, k) of the mask has its centre at (i + 1, j + 1, k + 1) x s).
    A voxel whose centre-to-centre EDT to the outside, minus half a voxel diagonal, is at
    least tau cannot be closer; only the others are measured with VTK."""
    s = np.asarray(spacing, float)
    padded = np.pad(mask, 1)
    edt = ndimage.distance_transform_edt(padded, sampling=s)[1:-1, 1:-1, 1:-1]
    candidates = mask & (edt - np.linalg.norm(s) / 2 < tau + 1e-9)
    band = np.zeros_like(mask)
    idx = np.argwhere(candidates)
    if len(idx):
        implicit = vtk.vtkImplicitPolyDataDistance()
        implicit.SetInput(mesh)
        points = (idx + 1) * s
        values = vtk.vtkDoubleArray()
        implicit.FunctionValue(numpy_to_vtk(np.ascontiguousarray(points, dtype=float), deep=True), values)
        band[tuple(idx.T)] = np.abs(vtk_to_numpy(values)) < tau
    return band


def label_values(ref, pred, label, spacing, tau, q, direction=None):
    r, p = ref == label, pred == label
    where = np.argwhere(r | p)
    lo, hi = where.min(0), where.max(0) + 1
    crop = tuple(slice(a, b) for a, b in zip(lo, hi))
    r, p = r[crop], p[crop]
    out = {}
    start = time.perf_counter()
    meshes32 = (surface_nets(r, spacing), surface_nets(p, spacing))
    out["vtk32"] = reductions(*directed(*meshes32), tau, q)
    seconds32 = time.perf_counter() - start
    meshes64 = (surface_nets(r, spacing, exact=True), surface_nets(p, spacing, exact=True))
    out["vtk64"] = reductions(*directed(*meshes64), tau, q)
    band_r = boundary_band(r, meshes64[0], spacing, tau)
    band_p = boundary_band(p, meshes64[1], spacing, tau)
    union = (band_r | band_p).sum()
    out["vtk64"]["biou"] = float((band_r & band_p).sum() / union) if union else None
    if direction is not None:
        world = (surface_nets(r, spacing, direction), surface_nets(p, spacing, direction))
        out["vtk32_world"] = reductions(*directed(*world), tau, q)
    out["seconds_vtk32"] = seconds32
    return out


def spacing_of(affine):
    return tuple(float(np.linalg.norm(affine[:3, c])) for c in range(3))


def run_peer(names, extra=None):
    """Peer values for the named cases (and `extra`: {name: (reference, prediction)})."""
    cases = dict(CASES, **(extra or {}))
    result = {"vtk_version": vtk.vtkVersion.GetVTKVersion(), "numpy_version": np.__version__, "tolerance_mm": TAU,
              "percentile": PERCENTILE, "cases": {}}
    for name in names:
        ref_path, pred_path = cases[name]
        ref_img, pred_img = nib.load(os.path.join(ROOT, ref_path)), nib.load(os.path.join(ROOT, pred_path))
        ref = np.asarray(ref_img.dataobj).astype(np.int64)
        pred = np.asarray(pred_img.dataobj).astype(np.int64)
        spacing = spacing_of(ref_img.affine)
        direction = ref_img.affine[:3, :3] / np.array(spacing) if name == "oblique" else None
        labels = sorted(set(np.unique(ref[ref > 0])) & set(np.unique(pred[pred > 0])))
        case = {"reference": ref_path, "prediction": pred_path, "spacing": spacing, "labels": {}}
        start = time.perf_counter()
        for label in labels:
            case["labels"][str(int(label))] = label_values(ref, pred, label, spacing, TAU, PERCENTILE, direction)
        case["seconds"] = time.perf_counter() - start
        result["cases"][name] = case
        print("%s: %d labels, %.1f s" % (name, len(labels), case["seconds"]), file=sys.stderr)
    return result


def noise(result):
    """Largest |vtk32 - vtk64| per metric over a case's labels (VTK's float32 noise)."""
    out = {}
    for name, case in result["cases"].items():
        worst = {}
        for values in case["labels"].values():
            for key in KEYS:
                diff = abs(values["vtk32"][key] - values["vtk64"][key])
                worst[key] = max(worst.get(key, 0.0), diff)
        out[name] = worst
        if name == "oblique":
            world = {}
            for values in case["labels"].values():
                for key in KEYS:
                    world[key] = max(world.get(key, 0.0), abs(values["vtk32_world"][key] - values["vtk64"][key]))
            out["oblique_world_vs_index"] = world
    return out


def compare(result, binary):
    """Largest difference between maskeval and the peer (vtk64 and vtk32) per case and metric,
    and of the reported biou against the peer's (vtk64)."""
    worst_overall = 0.0
    worst_biou = 0.0
    for name, case in result["cases"].items():
        command = [binary, "compare", os.path.join(ROOT, case["reference"]), os.path.join(ROOT, case["prediction"]),
                   "--compat", "meshmetrics", "--format", "json", "--tolerance", str(TAU),
                   "--percentile", str(PERCENTILE)]
        report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        rows = {str(row["label"]): row for row in report["labels"]}
        for run in ("vtk64", "vtk32"):
            line = []
            for key in KEYS:
                worst = 0.0
                for label, values in case["labels"].items():
                    ours, peer = rows[label][key], values[run][key]
                    excess = abs(ours - peer) - (1e-4 + 1e-5 * abs(peer))
                    worst = max(worst, abs(ours - peer))
                    worst_overall = max(worst_overall, excess)
                line.append("%s %.1e" % (key.replace("_mm", "").replace("asd_", ""), worst))
            if run == "vtk64":
                # biou: a ratio of voxel counts, so the same counts give the same value (the
                # peer's null, both bands empty, is the report's null).
                worst = 0.0
                for label, values in case["labels"].items():
                    ours, peer = rows[label].get("biou"), values[run].get("biou")
                    if (ours is None) != (peer is None):
                        worst = math.inf
                    elif ours is not None:
                        worst = max(worst, abs(ours - peer))
                worst_biou = max(worst_biou, worst)
                line.append("biou %.1e" % worst)
            print("%-15s %s  %s" % (name, run, ", ".join(line)))
    print("largest excess over 1e-4 mm + 1e-5 relative: %.2e (<= 0 passes)" % worst_overall)
    print("largest biou difference: %.1e (<= 1e-15 passes)" % worst_biou)
    return worst_overall <= 0 and worst_biou <= 1e-15


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make-fixtures", action="store_true")
    parser.add_argument("--store", action="store_true", help="run the peer and write expected.json")
    parser.add_argument("--compare", action="store_true", help="compare maskeval with expected.json")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "maskeval"))
    parser.add_argument("--check", nargs=2, metavar=("REF", "PRED"),
                        help="run the peer on one more pair and compare, storing nothing")
    args = parser.parse_args()
    if args.check:
        ref, pred = (os.path.relpath(os.path.abspath(p), ROOT) for p in args.check)
        result = run_peer(["check"], {"check": (ref, pred)})
        print(json.dumps(noise(result), indent=1, sort_keys=True))
        sys.exit(0 if compare(result, args.binary) else 1)
    expected = os.path.join(FIXTURES, "expected.json")
    if args.make_fixtures:
        make_fixtures()
    if args.store:
        result = run_peer(args.cases.split(","))
        result["float32_noise"] = noise(result)
        with open(expected, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
            f.write("\n")
        print(json.dumps(result["float32_noise"], indent=1, sort_keys=True))
    if args.compare:
        with open(expected) as f:
            result = json.load(f)
        sys.exit(0 if compare(result, args.binary) else 1)


if __name__ == "__main__":
    main()
