import Foundation

/// Self-contained HTML reports: inline CSS, inline SVG charts, PNG slices as data URIs and a
/// few lines of inline JavaScript to sort tables. Nothing is loaded from the network.
public enum HTMLReport {
    static let style = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
        .meta{color:#5b6475;font-size:13px}.meta code{font-size:12px}
        table{border-collapse:collapse;font-size:12.5px;margin:6px 0}th,td{padding:3px 8px;text-align:right;border-bottom:1px solid #eceef3;white-space:nowrap}
        th{background:#f3f5f9;cursor:pointer;user-select:none;position:sticky;top:0}td.t,th.t{text-align:left}
        .missed,.spurious,.error,.no_prediction{color:#b3261e;font-weight:600}.absent{color:#8a8f99}
        .charts{display:flex;flex-wrap:wrap;gap:24px}.chart{flex:1 1 480px;min-width:0}.charts.wide .chart{flex:1 1 100%}
        .slices{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.slices figure{margin:0}
        figcaption{font-size:12px;color:#5b6475;text-align:center}
        .legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:4px}
        .scroll{max-height:520px;overflow:auto;border:1px solid #eceef3;max-width:100%}
        td.msg,.msg{white-space:normal;overflow-wrap:anywhere;word-break:break-word}table.wrap{table-layout:fixed;width:100%}table.wrap td.t.error{width:160px;overflow-wrap:anywhere;white-space:normal}
        .fails li{margin:3px 0;overflow-wrap:anywhere}code{overflow-wrap:anywhere}h3{font-size:15px;margin:18px 0 2px}
        """

    static let sortScript = """
        document.querySelectorAll('table.sortable th').forEach(function(th,col){th.addEventListener('click',function(){
        var t=th.closest('table'),b=t.tBodies[0],rows=Array.from(b.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
        rows.sort(function(x,y){var a=x.cells[col].dataset.v||x.cells[col].textContent,c=y.cells[col].dataset.v||y.cells[col].textContent;
        var m=parseFloat(a),n=parseFloat(c);if(!isNaN(m)&&!isNaN(n))return asc?m-n:n-m;return asc?a.localeCompare(c):c.localeCompare(a)});
        rows.forEach(function(r){b.appendChild(r)})})});
        """

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func page(title: String, body: String) -> String {
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(escape(title))</title>"
            + "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>\(style)\(panelStyle)</style></head><body>\n"
            + body + "\n<script>\(sortScript)\(filterScript)</script></body></html>\n"
    }

    /// A cell with a numeric sort key (+∞ sorts last; undefined first).
    static func cell(_ value: Double?, _ digits: Int) -> String {
        let key = value.map { $0.isFinite ? String($0) : ($0 > 0 ? "1e308" : "-1e308") } ?? "-1e309"
        return "<td data-v=\"\(key)\">\(Format.fixed(value, digits))</td>"
    }

    /// The horizontal axis of a dot plot.
    enum Axis {
        case linear(lower: Double, upper: Double)
        /// Decades from `lower` to `upper` (both powers of ten); 0 is drawn at the left edge.
        case log(lower: Double, upper: Double)

        /// A log axis that holds every positive finite value (at least one decade, at most
        /// 10⁻² … 10⁴ mm).
        static func log(holding values: [Double]) -> Axis {
            let positive = values.filter { $0 > 0 && $0.isFinite }
            let low = Foundation.pow(10, Foundation.floor(Foundation.log10(max(positive.min() ?? 1, 1e-2))))
            var high = Foundation.pow(10, Foundation.ceil(Foundation.log10(max(positive.max() ?? 10, 1e-2))))
            if high <= low { high = low * 10 }
            return .log(lower: low, upper: high)
        }

        /// The fraction (0…1) of the axis where `value` lies.
        func fraction(_ value: Double) -> Double {
            switch self {
            case .linear(let lower, let upper):
                return min(1, max(0, (value - lower) / (upper - lower)))
            case .log(let lower, let upper):
                guard value > 0 else { return 0 }
                let t =
                    (Foundation.log10(value) - Foundation.log10(lower))
                    / (Foundation.log10(upper) - Foundation.log10(lower))
                return min(1, max(0, t))
            }
        }

        var ticks: [(Double, String)] {
            switch self {
            case .linear(let lower, let upper):
                return (0...4).map { step in
                    let v = lower + (upper - lower) * Double(step) / 4
                    return (v, Format.compact(v))
                }
            case .log(let lower, let upper):
                var out: [(Double, String)] = []
                var v = lower
                while v <= upper * 1.0001 {
                    out.append((v, Format.compact(v)))
                    v *= 10
                }
                return out
            }
        }
    }

    /// A point of a dot plot: its name (shown for labelled rows, always on hover) and value;
    /// nil or +∞ go to the separate column on the right.
    struct Dot {
        var name: String
        var value: Double?
        var digits: Int
    }

    /// A sorted dot plot, one row per item in the given order (worst first): the first
    /// `labelled` rows carry their names, the rest are thin rows whose names show on hover
    /// (SVG `<title>`), so 100+ structures fit in a few hundred pixels. +∞ and undefined values
    /// sit in their own column, never at the end of the axis.
    static func dotPlot(title: String, unit: String, items: [Dot], axis: Axis, labelled: Int) -> String {
        let labelWidth = 200
        let plotWidth = 300
        let special = 64
        let tall = 14
        let thin = 5
        let top = 26
        let rowTop = (0...items.count).map { row in top + min(row, labelled) * tall + max(0, row - labelled) * thin }
        let height = rowTop[items.count] + 30
        var svg = chartStart(width: labelWidth + plotWidth + special + 10, height: height, title: title)
        // Grid and ticks.
        let bottom = rowTop[items.count]
        for (value, text) in axis.ticks {
            let x = labelWidth + Int((axis.fraction(value) * Double(plotWidth)).rounded())
            svg += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(bottom)\" stroke=\"#e3e6ec\"/>"
            svg += "<text x=\"\(x)\" y=\"\(bottom + 12)\" font-size=\"10\" text-anchor=\"middle\">\(text)</text>"
        }
        let specialX = labelWidth + plotWidth + special / 2 + 8
        // The column of +∞ and undefined values, when there are any.
        if items.contains(where: { !($0.value?.isFinite ?? false) }) {
            svg +=
                "<text x=\"\(specialX)\" y=\"\(bottom + 12)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#b3261e\">inf / n.a.</text>"
            svg +=
                "<line x1=\"\(labelWidth + plotWidth + 16)\" y1=\"\(top)\" x2=\"\(labelWidth + plotWidth + 16)\" y2=\"\(bottom)\" stroke=\"#c9ced8\" stroke-dasharray=\"2,2\"/>"
        }
        if case .log = axis {
            svg +=
                "<text x=\"\(labelWidth + plotWidth / 2)\" y=\"\(bottom + 24)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6475\">\(escape(unit)), log scale (0 at the left edge)</text>"
        } else if !unit.isEmpty {
            svg +=
                "<text x=\"\(labelWidth + plotWidth / 2)\" y=\"\(bottom + 24)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6475\">\(escape(unit))</text>"
        }
        for (row, item) in items.enumerated() {
            let isLabelled = row < labelled
            let y = (rowTop[row] + rowTop[row + 1]) / 2
            let shown = item.value.map { Format.fixed($0, item.digits) } ?? "undefined"
            let hover =
                "<title>\(escape(item.name)): \(shown)\(unit.isEmpty || item.value == nil ? "" : " \(escape(unit))")</title>"
            if isLabelled {
                svg += rowName(item.name, y: y - 7, labelWidth: labelWidth)
                svg +=
                    "<line x1=\"\(labelWidth)\" y1=\"\(y)\" x2=\"\(labelWidth + plotWidth)\" y2=\"\(y)\" stroke=\"#f0f1f5\"/>"
            }
            let radius = isLabelled ? 3.5 : 2.2
            if let value = item.value, value.isFinite {
                let x = Double(labelWidth) + axis.fraction(value) * Double(plotWidth)
                svg +=
                    "<circle cx=\"\(Format.fixed(x, 1))\" cy=\"\(y)\" r=\"\(radius)\" fill=\"#3d6fb6\">\(hover)</circle>"
            } else {
                svg += "<circle cx=\"\(specialX)\" cy=\"\(y)\" r=\"\(radius)\" fill=\"#b3261e\">\(hover)</circle>"
            }
        }
        if items.count > labelled {
            svg +=
                "<text x=\"\(labelWidth - 6)\" y=\"\(rowTop[labelled] + 10)\" font-size=\"10\" text-anchor=\"end\" fill=\"#5b6475\">\(items.count - labelled) more (hover)</text>"
        }
        return svg + "</svg>"
    }

    /// An SVG chart's opening tag and its title; it shrinks with the page (viewBox).
    static func chartStart(width: Int, height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" style=\"max-width:100%;height:auto\" role=\"img\" aria-label=\"\(escape(title))\">"
            + "<text x=\"0\" y=\"14\" font-size=\"13\" font-weight=\"600\">\(escape(title))</text>"
    }

    /// A structure's name right-aligned before its row (long names cut at 30 characters).
    static func rowName(_ label: String, y: Int, labelWidth: Int) -> String {
        let name = label.count > 30 ? String(label.prefix(29)) + "…" : label
        return
            "<text x=\"\(labelWidth - 6)\" y=\"\(y + 11)\" font-size=\"11\" text-anchor=\"end\">\(escape(name))</text>"
    }

    /// A strip plot across cases: one row per structure, one dot per case carrying its case
    /// id on hover; the worst case of each row is named on the right; +∞ and undefined values
    /// sit in their own column.
    static func stripPlot(
        title: String, unit: String, rows: [(label: String, values: [(caseID: String, value: Double)])], axis: Axis,
        higherIsWorse: Bool, digits: Int
    ) -> String {
        let rowHeight = 18
        let labelWidth = 200
        let plotWidth = 320
        let special = 56
        let worstWidth = 130
        let top = 26
        let bottom = top + rows.count * rowHeight
        var svg = chartStart(
            width: labelWidth + plotWidth + special + worstWidth, height: bottom + 30, title: title)
        for (value, text) in axis.ticks {
            let x = labelWidth + Int((axis.fraction(value) * Double(plotWidth)).rounded())
            svg += "<line x1=\"\(x)\" y1=\"\(top)\" x2=\"\(x)\" y2=\"\(bottom)\" stroke=\"#e3e6ec\"/>"
            svg += "<text x=\"\(x)\" y=\"\(bottom + 12)\" font-size=\"10\" text-anchor=\"middle\">\(text)</text>"
        }
        let specialX = labelWidth + plotWidth + special / 2 + 4
        if rows.contains(where: { $0.values.contains { !$0.value.isFinite } }) {
            svg +=
                "<text x=\"\(specialX)\" y=\"\(bottom + 12)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#b3261e\">inf</text>"
        }
        svg +=
            "<text x=\"\(labelWidth + plotWidth + special + 4)\" y=\"\(top - 4)\" font-size=\"10\" fill=\"#5b6475\">worst case</text>"
        if case .log = axis {
            svg +=
                "<text x=\"\(labelWidth + plotWidth / 2)\" y=\"\(bottom + 24)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#5b6475\">\(escape(unit)), log scale (0 at the left edge)</text>"
        }
        for (row, item) in rows.enumerated() {
            let y = top + row * rowHeight + rowHeight / 2
            svg += rowName(item.label, y: y - 7, labelWidth: labelWidth)
            svg +=
                "<line x1=\"\(labelWidth)\" y1=\"\(y)\" x2=\"\(labelWidth + plotWidth)\" y2=\"\(y)\" stroke=\"#f0f1f5\"/>"
            var infinite = 0
            for (caseID, value) in item.values {
                let hover = "<title>\(escape(caseID)): \(Format.fixed(value, digits))</title>"
                if value.isFinite {
                    let x = Double(labelWidth) + axis.fraction(value) * Double(plotWidth)
                    svg +=
                        "<circle cx=\"\(Format.fixed(x, 1))\" cy=\"\(y)\" r=\"3.5\" fill=\"#3d6fb6\" fill-opacity=\"0.55\">\(hover)</circle>"
                } else {
                    // Side by side, so each case stays visible and hoverable.
                    let x = specialX - 12 + (infinite % 7) * 4
                    infinite += 1
                    svg +=
                        "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"3\" fill=\"#b3261e\" fill-opacity=\"0.7\">\(hover)</circle>"
                }
            }
            let worst = item.values.max { a, b in
                let (x, y) = higherIsWorse ? (a.value, b.value) : (-a.value, -b.value)
                return x != y ? x < y : a.caseID > b.caseID
            }
            if let worst {
                let name = worst.caseID.count > 18 ? String(worst.caseID.prefix(17)) + "…" : worst.caseID
                svg +=
                    "<text x=\"\(labelWidth + plotWidth + special + 4)\" y=\"\(y + 4)\" font-size=\"10\" fill=\"#39414f\">\(escape(name)) \(Format.fixed(worst.value, digits))<title>\(escape(worst.caseID))</title></text>"
            }
        }
        return svg + "</svg>"
    }

    /// Extra CSS of the pictures: orientation letters over each panel, the locator.
    static let panelStyle = """
        .pn{position:relative;display:inline-block;line-height:0}.pn img{display:block}
        .pn b{position:absolute;font:700 12px/1 system-ui,sans-serif;color:#ffd400;text-shadow:0 0 2px #000,0 0 2px #000}
        .pn .l{left:3px;top:50%;transform:translateY(-50%)}.pn .r{right:3px;top:50%;transform:translateY(-50%)}
        .pn .t{top:3px;left:50%;transform:translateX(-50%)}.pn .b{bottom:3px;left:50%;transform:translateX(-50%)}
        .loc{align-self:center}.row{margin:6px 0 14px}.row h4{margin:4px 0;font-size:13px;font-weight:600;color:#39414f}
        """

    /// One panel: the image with the orientation letters on its edges, and a caption.
    static func panel(
        _ image: RGBImage, letters: (left: String, right: String, top: String, bottom: String), caption: String
    )
        -> String
    {
        let png = PNG.base64(PNG.encode(image))
        return
            "<figure><div class=\"pn\"><img alt=\"\(escape(caption))\" width=\"\(image.width)\" height=\"\(image.height)\" src=\"data:image/png;base64,\(png)\">"
            + "<b class=\"l\">\(letters.left)</b><b class=\"r\">\(letters.right)</b><b class=\"t\">\(letters.top)</b><b class=\"b\">\(letters.bottom)</b></div>"
            + "<figcaption>\(escape(caption))</figcaption></figure>"
    }

    /// A row of three planes through `voxel`, cropped to `box`, with a locator.
    static func panelRow(
        _ slices: SliceImages, heading: String, label: Int32, voxel: SIMD3<Int>, box: VoxelBox, mark: SIMD3<Int>?,
        planes: [SliceImages.Plane: SIMD3<Int>] = [:]
    ) -> String {
        var out = "<div class=\"row\"><h4>\(escape(heading))</h4><div class=\"slices\">"
        let axisNames = ["i", "j", "k"]
        // Small structures get a wider margin, so that at least ~60 mm around them shows.
        let spacing = slices.reference.grid.spacingMM
        let extentMM = (0..<3).map { Double(box.size[$0]) * spacing[$0] }.max() ?? 0
        let margin = max(10, (60 - extentMM) / 2)
        let scale = slices.pixelMM(box: box, marginMM: margin, size: 240)
        for plane in [SliceImages.Plane.axial, .coronal, .sagittal] {
            let through = planes[plane] ?? voxel
            let image = slices.render(
                label: label, plane: plane, voxel: through, box: box, marginMM: margin, pixelMM: scale, mark: mark)
            let fixedAxis = slices.frame.voxelAxis[plane.worldAxis]
            var caption = "\(plane.name), \(axisNames[fixedAxis]) = \(through[fixedAxis])"
            if let mark, mark[fixedAxis] == through[fixedAxis] { caption += " (Hausdorff voxel ringed)" }
            out += panel(image, letters: slices.letters(plane), caption: caption)
        }
        let locator = slices.locator(plane: .axial, voxel: voxel, box: box)
        let view: SliceImages.Plane = .coronal
        out +=
            "<figure class=\"loc\">"
            + panel(locator, letters: slices.letters(view), caption: "").replacingOccurrences(of: "<figure>", with: "")
            .replacingOccurrences(of: "<figcaption></figcaption></figure>", with: "")
            + "<figcaption>where: whole volume (coronal),<br>crop in blue, axial slice in yellow</figcaption></figure>"
        return out + "</div></div>"
    }

    /// The structures shown as slices: the three lowest Dice, the three highest HD95 and the
    /// three highest Hausdorff distances among the matched ones (up to nine, lowest Dice first).
    static func worst(_ labels: [LabelResult], preset: Compat) -> [LabelResult] {
        let matched = labels.filter { $0.status == .matched }
        func highest(_ value: (LabelResult) -> Double?) -> ArraySlice<LabelResult> {
            matched.sorted { (value($0) ?? 0, -Int($0.label)) > (value($1) ?? 0, -Int($1.label)) }.prefix(3)
        }
        let byDice = matched.sorted { ($0.dice, $0.label) < ($1.dice, $1.label) }.prefix(3)
        let byHD95 = highest { $0.surface[preset]?.hdPercentileMM }
        let byHausdorff = highest { $0.surface[preset]?.hausdorffMM }
        var seen = Set<Int32>()
        return (Array(byDice) + Array(byHD95) + Array(byHausdorff)).filter { seen.insert($0.label).inserted }
    }

    /// At most this many missed (and as many spurious) structures get panels; the rest are listed.
    static let failurePanels = 12

    /// The compare report. `slices` draws the failures (nil: no images); it needs an
    /// evaluation made with `keepDetail`. `title` names the case; `back` is the href of the
    /// batch page that links here.
    public static func compare(
        evaluation: Evaluation, report: CompareReport, slices: SliceImages?, title: String? = nil,
        back: String? = nil
    ) -> String {
        let preset = report.settings.primary
        let settings = evaluation.settings
        let names = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.label, $0.name) })
        let q = Format.compact(settings.percentile)
        let tau = Format.compact(settings.toleranceMM)
        var body = back.map { "<p class=\"meta\"><a href=\"\(escape($0))\">← batch report</a></p>" } ?? ""
        body +=
            "<h1>MaskEval report\(title.map { ": " + escape($0) } ?? "")</h1><div class=\"meta\">reference <code>\(escape(report.reference.path))</code><br>"
        body +=
            "prediction <code>\(escape(report.prediction.path))</code> (\(escape(report.settings.geometry.rawValue)))<br>"
        body +=
            "definitions: <b>\(preset.rawValue)</b> preset; HD\(q); NSD at τ = \(tau) mm; MaskEval \(MaskEvalVersion.string)</div>"
        let counts = Summary.statusCounts(report.rows)
        body +=
            "<p>\(evaluation.labels.count) structures: "
            + ([RowStatus.matched, .missed, .spurious, .absent] + (counts[.noPrediction] == nil ? [] : [.noPrediction]))
            .map {
                "<span class=\"\($0.rawValue)\">\(counts[$0] ?? 0) \($0.rawValue.replacingOccurrences(of: "_", with: " "))</span>"
            }.joined(separator: ", ") + "</p>"
        func name(_ r: LabelResult) -> String {
            names[r.label].flatMap { $0.isEmpty ? nil : "\(r.label) \($0)" } ?? String(r.label)
        }
        // Missed and spurious structures: a short list, never bars.
        let missed = evaluation.labels.filter { $0.status == .missed }
        let spurious = evaluation.labels.filter { $0.status == .spurious }
        if !missed.isEmpty || !spurious.isEmpty {
            body += "<h2>Not found</h2><ul class=\"fails\">"
            if !missed.isEmpty {
                body +=
                    "<li><span class=\"missed\">missed (\(missed.count))</span>, in the reference only: "
                    + missed.map { "\(escape(name($0))) (\(Format.fixed($0.referenceVolumeML, 2)) mL)" }.joined(
                        separator: "; ") + "</li>"
            }
            if !spurious.isEmpty {
                body +=
                    "<li><span class=\"spurious\">spurious (\(spurious.count))</span>, in the prediction only: "
                    + spurious.map { "\(escape(name($0))) (\(Format.fixed($0.predictionVolumeML, 2)) mL)" }.joined(
                        separator: "; ") + "</li>"
            }
            body += "</ul>"
        }

        // Charts of the matched structures, worst first.
        let matched = evaluation.labels.filter { $0.status == .matched }
        let labelled = matched.count <= 30 ? matched.count : 20
        let byDice = matched.sorted { ($0.dice, $0.label) < ($1.dice, $1.label) }
        let diceChart = dotPlot(
            title: "Dice, matched structures (worst first)", unit: "",
            items: byDice.map { Dot(name: name($0), value: $0.dice, digits: 3) }, axis: .linear(lower: 0, upper: 1),
            labelled: labelled)
        let hd = { (r: LabelResult) in r.surface[preset]?.hdPercentileMM }
        let byHD = matched.sorted { (hd($0) ?? .infinity, -Int($0.label)) > (hd($1) ?? .infinity, -Int($1.label)) }
        let hdChart = dotPlot(
            title: "HD\(q), matched structures (worst first)", unit: "mm",
            items: byHD.map { Dot(name: name($0), value: hd($0), digits: 2) },
            axis: .log(holding: matched.compactMap(hd)), labelled: labelled)
        body +=
            matched.isEmpty
            ? "<h2>Scores</h2><p>No structure is in both volumes.</p>"
            : "<h2>Scores</h2><div class=\"charts\"><div class=\"chart\">\(diceChart)</div><div class=\"chart\">\(hdChart)</div></div>"

        if let slices {
            body += "<h2>Where the structures fail</h2><p class=\"legend\">"
            body += "<span><i class=\"sw\" style=\"background:#00dc00\"></i>reference contour</span>"
            body +=
                "<span><i class=\"sw\" style=\"background:#ff00ff\"></i>prediction contour</span><span><i class=\"sw\" style=\"background:#fff;border:1px solid #999\"></i>both</span>"
            body +=
                "<span><i class=\"sw\" style=\"background:#ffdc00\"></i>voxel where the Hausdorff distance is reached (when on the slice)</span></p>"
            let window = slices.window.map { ", grey window \($0.description)" } ?? ", over the reference label map"
            body +=
                "<p class=\"meta\">\(slices.convention == .radiological ? "Radiological" : "Neurological") display (the patient's \(slices.convention == .radiological ? "right" : "left") on the screen's left; sagittal: anterior on the left)\(window). Letters: R/L right/left, A/P anterior/posterior, S/I superior/inferior.</p>"
            // Missed structures show the reference, spurious ones the prediction.
            let failures =
                missed.prefix(failurePanels).map { ($0, RowStatus.missed) }
                + spurious.prefix(failurePanels).map { ($0, RowStatus.spurious) }
            for (r, status) in failures {
                guard let detail = r.detail else { continue }
                let missedOne = status == .missed
                let at = slices.largestCrossSection(
                    of: missedOne ? slices.reference : slices.prediction, label: r.label, box: detail.box)
                let volume = missedOne ? r.referenceVolumeML : r.predictionVolumeML
                body +=
                    "<h3 class=\"\(status.rawValue)\">\(escape(name(r))): \(status.rawValue) (\(Format.fixed(volume, 2)) mL)</h3>"
                body += panelRow(
                    slices,
                    heading: missedOne
                        ? "the reference (green) at its largest cross-section in each plane"
                        : "the prediction (magenta) at its largest cross-section in each plane",
                    label: r.label, voxel: at, box: detail.box, mark: nil)
            }
            let left = max(0, missed.count - failurePanels) + max(0, spurious.count - failurePanels)
            if left > 0 {
                body +=
                    "<p class=\"meta\">\(left) more missed or spurious structures are listed above without pictures.</p>"
            }
            for r in worst(evaluation.labels, preset: preset) {
                guard let detail = r.detail else { continue }
                body +=
                    "<h3>\(escape(name(r))): Dice \(Format.fixed(r.dice, 3)), HD\(q) \(Format.fixed(hd(r), 2)) mm, Hausdorff \(Format.fixed(detail.hausdorffMM, 2)) mm</h3>"
                if let error = slices.largestError(label: r.label, box: detail.box, preferring: detail.hausdorffVoxel) {
                    let ml = Double(error.count) * r.voxelVolumeML
                    body += panelRow(
                        slices,
                        heading:
                            "largest error: \(error.count) connected \(error.missing ? "false negative (reference only)" : "false positive (prediction only)") voxels, \(Format.fixed(ml, 2)) mL",
                        label: r.label, voxel: error.voxel, box: detail.box, mark: detail.hausdorffVoxel)
                }
                body += panelRow(
                    slices, heading: "through the structure's centre", label: r.label,
                    voxel: slices.centroid(label: r.label, box: detail.box), box: detail.box,
                    mark: detail.hausdorffVoxel)
                let v = detail.hausdorffVoxel
                body +=
                    "<p class=\"meta\">Hausdorff distance reached at voxel (\(v.x), \(v.y), \(v.z)).</p>"
            }
        }

        // The table.
        body +=
            "<h2>All structures</h2><p class=\"meta\">Click a column to sort.</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr>"
        body +=
            "<th>label</th><th class=\"t\">name</th><th class=\"t\">status</th><th>ref mL</th><th>pred mL</th><th>Dice</th><th>HD\(q) mm</th><th>ASSD mm</th><th>NSD@\(tau)mm</th><th>HD mm</th></tr></thead><tbody>"
        for r in evaluation.labels {
            let s = r.surface[preset]
            body +=
                "<tr><td>\(r.label)</td><td class=\"t\">\(escape(names[r.label] ?? ""))</td><td class=\"t \(r.status.rawValue)\">\(r.status.rawValue)</td>"
            body +=
                cell(r.referenceVolumeML, 3) + cell(r.predictionVolumeML, 3) + cell(r.dice, 4)
                + cell(s?.hdPercentileMM, 3)
            body += cell(s?.assdMM, 3) + cell(s?.nsd, 4) + cell(s?.hausdorffMM, 3) + "</tr>"
        }
        body += "</tbody></table></div>"
        return page(title: "MaskEval: \(report.prediction.path)", body: body)
    }

    /// One row per case of the batch table: its mean Dice over the structures with a Dice,
    /// its lowest-Dice structure and its status counts.
    struct CaseLine {
        var caseID: String
        var meanDice: Double?
        var worst: LabelRow?
        var counts: [RowStatus: Int]
    }

    static func caseLines(_ rows: [LabelRow]) -> [CaseLine] {
        var byCase: [String: [LabelRow]] = [:]
        for row in rows { byCase[row.caseID, default: []].append(row) }
        return byCase.keys.sorted().map { id in
            let rows = byCase[id] ?? []
            let scored = rows.filter { $0.status != .error && $0.status != .absent && $0[.dice] != nil }
            let dice = scored.compactMap { $0[.dice] }
            let worst = scored.min { a, b in (a[.dice] ?? 0, a.label) < (b[.dice] ?? 0, b.label) }
            return CaseLine(
                caseID: id, meanDice: dice.isEmpty ? nil : dice.reduce(0, +) / Double(dice.count), worst: worst,
                counts: Summary.statusCounts(rows))
        }
    }

    static let filterScript = """
        var f=document.getElementById('casefilter');if(f)f.addEventListener('input',function(){var q=f.value.toLowerCase();
        document.querySelectorAll('#cases tbody tr').forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':''})});
        """

    /// The batch dashboard: settings, per-case table (sortable, filterable, linked to each
    /// case's report when `caseLinks` has it), strip plots across cases, aggregates, failed
    /// cases, cases without a prediction, gate failures. `caseLinks` maps a case id to the
    /// href of its compare report.
    public static func batch(_ result: BatchResult, gateFailures: [GateFailure], caseLinks: [String: String] = [:])
        -> String
    {
        let summary = result.summary
        let settings = result.settings
        let hd = MetricColumn(.hdPercentile)
        let hdKey = settings.columnName(hd)
        var body = "<h1>MaskEval batch report</h1><div class=\"meta\">"
        body +=
            "\(summary.caseCount) cases; <b>\(settings.primary.rawValue)</b> preset; HD\(Format.compact(settings.percentile)); NSD at τ = \(Format.compact(settings.toleranceMM)) mm"
        if !settings.toleranceByLabel.isEmpty { body += " (\(settings.toleranceByLabel.count) per-label tolerances)" }
        switch settings.penalty {
        case .none: body += "; +inf left out of aggregates"
        case .millimetres(let mm): body += "; +inf counts as \(Format.compact(mm)) mm in aggregates"
        case .diagonal: body += "; +inf counts as the image diagonal in aggregates"
        }
        body += "; geometry \(settings.geometry.rawValue); MaskEval \(MaskEvalVersion.string)"
        for (key, value) in settings.inputs.sorted(by: { $0.key < $1.key }) {
            body += "<br>\(escape(key)) <code>\(escape(value))</code>"
        }
        if let shard = result.shard { body += "<br>shard \(escape("\(shard)"))" }
        body += "</div>"
        let missing = summary.casesWithoutPrediction
        var errors: [String: String] = [:]
        for row in result.rows where row.status == .error { errors[row.caseID] = row.error }
        body +=
            "<p>\(errors.isEmpty ? "No failed case" : "<a href=\"#failed\" class=\"error\">\(errors.count) failed case(s)</a>"); "
            + "\(missing.isEmpty ? "no case without a prediction" : "<a href=\"#missing\" class=\"missed\">\(missing.count) case(s) without a prediction</a>"); "
            + "\(gateFailures.isEmpty ? "no gate failure" : "<a href=\"#gates\" class=\"error\">\(gateFailures.count) gate failure(s)</a>").</p>"

        // Per case.
        body +=
            "<h2>Cases</h2><p class=\"meta\">Click a column to sort; type to filter. <input id=\"casefilter\" placeholder=\"filter cases\" style=\"font:inherit;padding:2px 6px\"></p>"
        body +=
            "<div class=\"scroll\"><table id=\"cases\" class=\"sortable\"><thead><tr><th class=\"t\">case</th><th>mean Dice</th><th class=\"t\">worst structure</th><th>its Dice</th>"
        let statuses: [RowStatus] = [.matched, .missed, .spurious, .noPrediction, .error]
        body += statuses.map { "<th>\($0.rawValue.replacingOccurrences(of: "_", with: " "))</th>" }.joined()
        body += "<th class=\"t\">report</th></tr></thead><tbody>"
        for line in caseLines(result.rows) {
            body += "<tr><td class=\"t\">\(escape(line.caseID))</td>" + cell(line.meanDice, 4)
            if let worst = line.worst {
                let title = worst.name.isEmpty ? String(worst.label) : "\(worst.label) \(worst.name)"
                body += "<td class=\"t\">\(escape(title))</td>" + cell(worst[.dice], 4)
            } else {
                body += "<td class=\"t\"></td><td></td>"
            }
            for status in statuses {
                let n = line.counts[status] ?? 0
                body += "<td class=\"\(n > 0 && status != .matched ? status.rawValue : "")\">\(n)</td>"
            }
            body +=
                caseLinks[line.caseID].map { "<td class=\"t\"><a href=\"\(escape($0))\">open</a></td>" }
                ?? "<td class=\"t\"></td>"
            body += "</tr>"
        }
        body += "</tbody></table></div>"

        // Across cases.
        let structures = summary.structures
        func title(_ s: (label: Int32, name: String, rows: [LabelRow])) -> String {
            s.name.isEmpty ? String(s.label) : "\(s.label) \(s.name)"
        }
        func values(_ rows: [LabelRow], _ key: MetricKey) -> [(caseID: String, value: Double)] {
            rows.compactMap { row in row.status == .noPrediction ? nil : row[key].map { (row.caseID, $0) } }
        }
        let dice = structures.map { (label: title($0), values: values($0.rows, .dice)) }
        let hds = structures.map { (label: title($0), values: values($0.rows, .hdPercentile)) }
        body +=
            "<h2>Across cases</h2><p class=\"meta\">One dot per case (hover for its id); red: +inf (missed or spurious); the worst case of each structure is named on the right. Cases without a prediction are listed below, not plotted.</p><div class=\"charts wide\"><div class=\"chart\">"
        body += stripPlot(
            title: "Dice per case", unit: "", rows: dice, axis: .linear(lower: 0, upper: 1), higherIsWorse: false,
            digits: 3)
        body +=
            "</div><div class=\"chart\">"
            + stripPlot(
                title: "\(hdKey) per case", unit: "mm", rows: hds,
                axis: .log(holding: hds.flatMap { $0.values.map(\.value) }), higherIsWorse: true, digits: 2)
            + "</div></div>"
        body +=
            "<h2>Aggregates</h2><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>label</th><th class=\"t\">name</th><th>cases</th><th>matched</th><th>missed</th><th>no prediction</th><th>spurious</th>"
        body +=
            "<th>Dice mean</th><th>Dice std</th><th>Dice median</th><th>\(hdKey) median</th><th>\(hdKey) q3</th><th>ASSD mean</th><th>NSD mean</th></tr></thead><tbody>"
        for s in structures {
            let stats = Dictionary(uniqueKeysWithValues: summary.statistics(of: s.rows))
            let counts = Summary.statusCounts(s.rows)
            func count(_ status: RowStatus) -> String {
                let n = counts[status] ?? 0
                return "<td class=\"\(n > 0 && status != .matched ? status.rawValue : "")\">\(n)</td>"
            }
            body +=
                "<tr><td>\(s.label)</td><td class=\"t\">\(escape(s.name))</td><td>\(s.rows.count)</td>"
                + count(.matched) + count(.missed) + count(.noPrediction) + count(.spurious)
            let d = stats[MetricColumn(.dice)]
            body += cell(d?.mean, 4) + cell(d?.std, 4) + cell(d?.median, 4)
            body +=
                cell(stats[hd]?.median, 3) + cell(stats[hd]?.q3, 3) + cell(stats[MetricColumn(.assd)]?.mean, 3)
                + cell(stats[MetricColumn(.nsd)]?.mean, 4) + "</tr>"
        }
        body += "</tbody></table></div>"
        body += "<h2 id=\"failed\">Failed cases (\(errors.count))</h2>"
        body +=
            errors.isEmpty
            ? "<p>None.</p>"
            : "<table class=\"wrap\"><tbody>"
                + errors.sorted { $0.key < $1.key }.map {
                    "<tr><td class=\"t error\">\(escape($0.key))</td><td class=\"t msg\">\(escape($0.value))</td></tr>"
                }.joined() + "</tbody></table>"
        body += "<h2 id=\"missing\">Cases without a prediction (\(missing.count))</h2>"
        body +=
            missing.isEmpty
            ? "<p>None.</p>" : "<p class=\"msg\">" + missing.map(escape).joined(separator: ", ") + "</p>"
        body += "<h2 id=\"gates\">Gate failures (\(gateFailures.count))</h2>"
        body +=
            gateFailures.isEmpty
            ? "<p>None.</p>"
            : "<div class=\"scroll\"><table class=\"wrap\"><tbody>"
                + gateFailures.map { "<tr><td class=\"t msg\">\(escape($0.description))</td></tr>" }.joined()
                + "</tbody></table></div>"
        return page(title: "MaskEval batch report", body: body)
    }

    /// A file name for a case's report in `--html-cases`: the case id with every character
    /// other than letters, digits, `-`, `_` and `.` replaced by `_`, then `.html`.
    public static func caseFileName(_ caseID: String) -> String {
        let safe = caseID.unicodeScalars.map { c -> String in
            let ok = (c.value < 128 && (CharacterSet.alphanumerics.contains(c) || "-_.".unicodeScalars.contains(c)))
            return ok ? String(c) : "_"
        }.joined()
        return (safe.isEmpty || safe.hasPrefix(".") ? "case_" + safe : safe) + ".html"
    }
}
