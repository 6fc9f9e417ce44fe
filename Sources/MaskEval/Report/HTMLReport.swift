/// Self-contained HTML reports: inline CSS, inline SVG charts, PNG slices as data URIs and a
/// few lines of inline JavaScript to sort tables. Nothing is loaded from the network.
public enum HTMLReport {
    static let style = """
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#1d2330;padding:0 16px}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde1e8;padding-bottom:4px}
        .meta{color:#5b6475;font-size:13px}.meta code{font-size:12px}
        table{border-collapse:collapse;font-size:12.5px;margin:6px 0}th,td{padding:3px 8px;text-align:right;border-bottom:1px solid #eceef3;white-space:nowrap}
        th{background:#f3f5f9;cursor:pointer;user-select:none;position:sticky;top:0}td.t,th.t{text-align:left}
        .missed,.spurious,.error{color:#b3261e;font-weight:600}.absent{color:#8a8f99}
        .charts{display:flex;flex-wrap:wrap;gap:24px}.chart{flex:1 1 480px}
        .slices{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.slices figure{margin:0}
        figcaption{font-size:12px;color:#5b6475;text-align:center}
        .legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:4px}
        .scroll{max-height:520px;overflow:auto;border:1px solid #eceef3}
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
            + "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>\(style)</style></head><body>\n"
            + body + "\n<script>\(sortScript)</script></body></html>\n"
    }

    /// A cell with a numeric sort key (+∞ sorts last; undefined first).
    static func cell(_ value: Double?, _ digits: Int) -> String {
        let key = value.map { $0.isFinite ? String($0) : ($0 > 0 ? "1e308" : "-1e308") } ?? "-1e309"
        return "<td data-v=\"\(key)\">\(Format.fixed(value, digits))</td>"
    }

    /// A horizontal bar chart, one bar per item in the given order; nil or +∞ values draw a
    /// full red hatched bar with their status written on it.
    static func barChart(
        title: String, items: [(label: String, value: Double?, note: String?)], maximum: Double, unit: String,
        digits: Int
    ) -> String {
        let rowHeight = 16
        let labelWidth = 230
        let barWidth = 330
        let height = items.count * rowHeight + 30
        var svg = chartStart(width: labelWidth + barWidth + 70, height: height, title: title)
        svg +=
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f4c7c3\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b3261e\" stroke-width=\"2\"/></pattern></defs>"
        let scale = maximum > 0 ? Double(barWidth) / maximum : 0
        for (row, item) in items.enumerated() {
            let y = 24 + row * rowHeight
            svg += rowName(item.label, y: y, labelWidth: labelWidth)
            if let value = item.value, value.isFinite {
                let w = max(1, Int((min(value, maximum) * scale).rounded()))
                svg +=
                    "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(w)\" height=\"\(rowHeight - 4)\" fill=\"#3d6fb6\"/>"
                svg +=
                    "<text x=\"\(labelWidth + w + 4)\" y=\"\(y + 11)\" font-size=\"10\" fill=\"#39414f\">\(Format.fixed(value, digits))\(unit)</text>"
                if let note = item.note {
                    svg +=
                        "<text x=\"\(labelWidth + w + 50)\" y=\"\(y + 11)\" font-size=\"10\" fill=\"#b3261e\">\(escape(note))</text>"
                }
            } else {
                svg +=
                    "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(barWidth)\" height=\"\(rowHeight - 4)\" fill=\"url(#hatch)\"/>"
                // The status goes after the bar, where it stays readable.
                svg +=
                    "<text x=\"\(labelWidth + barWidth + 4)\" y=\"\(y + 11)\" font-size=\"10\" fill=\"#b3261e\" font-weight=\"600\">\(escape(item.note ?? "undefined"))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// An SVG chart's opening tag and its title.
    static func chartStart(width: Int, height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escape(title))\">"
            + "<text x=\"0\" y=\"14\" font-size=\"13\" font-weight=\"600\">\(escape(title))</text>"
    }

    /// A structure's name right-aligned before its row (long names cut at 30 characters).
    static func rowName(_ label: String, y: Int, labelWidth: Int) -> String {
        let name = label.count > 30 ? String(label.prefix(29)) + "…" : label
        return
            "<text x=\"\(labelWidth - 6)\" y=\"\(y + 11)\" font-size=\"11\" text-anchor=\"end\">\(escape(name))</text>"
    }

    /// A strip plot: one row per structure, one dot per case; +∞ drawn at the right edge.
    static func stripPlot(title: String, rows: [(label: String, values: [Double])], maximum: Double, digits: Int)
        -> String
    {
        let rowHeight = 16
        let labelWidth = 230
        let plotWidth = 360
        let height = rows.count * rowHeight + 44
        var svg = chartStart(width: labelWidth + plotWidth + 40, height: height, title: title)
        let scale = maximum > 0 ? Double(plotWidth) / maximum : 0
        for (row, item) in rows.enumerated() {
            let y = 24 + row * rowHeight
            svg += rowName(item.label, y: y, labelWidth: labelWidth)
            svg +=
                "<line x1=\"\(labelWidth)\" y1=\"\(y + 8)\" x2=\"\(labelWidth + plotWidth)\" y2=\"\(y + 8)\" stroke=\"#eceef3\"/>"
            for value in item.values {
                let finite = value.isFinite
                let x = labelWidth + Int(((finite ? min(value, maximum) : maximum) * scale).rounded())
                svg +=
                    "<circle cx=\"\(x)\" cy=\"\(y + 8)\" r=\"3\" fill=\"\(finite ? "#3d6fb6" : "#b3261e")\" fill-opacity=\"0.6\"/>"
            }
        }
        let axisY = 24 + rows.count * rowHeight + 12
        svg += "<text x=\"\(labelWidth)\" y=\"\(axisY)\" font-size=\"10\">0</text>"
        svg +=
            "<text x=\"\(labelWidth + plotWidth)\" y=\"\(axisY)\" font-size=\"10\" text-anchor=\"end\">\(Format.fixed(maximum, digits)) (red: inf)</text>"
        return svg + "</svg>"
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

    /// The compare report. `slices` renders the chosen structures (nil: no images).
    public static func compare(evaluation: Evaluation, report: CompareReport, slices: SliceImages?) -> String {
        let preset = report.settings.primary
        let settings = evaluation.settings
        let names = Dictionary(uniqueKeysWithValues: report.rows.map { ($0.label, $0.name) })
        let q = Format.compact(settings.percentile)
        let tau = Format.compact(settings.toleranceMM)
        var body =
            "<h1>MaskEval report</h1><div class=\"meta\">reference <code>\(escape(report.reference.path))</code><br>"
        body += "prediction <code>\(escape(report.prediction.path))</code> (\(escape(report.settings.geometry.rawValue)))<br>"
        body +=
            "definitions: <b>\(preset.rawValue)</b> preset; HD\(q); NSD at τ = \(tau) mm; MaskEval \(MaskEvalVersion.string)</div>"
        let counts = Summary.statusCounts(report.rows)
        body +=
            "<p>\(evaluation.labels.count) structures: "
            + [RowStatus.matched, .missed, .spurious, .absent].map {
                "<span class=\"\($0.rawValue)\">\(counts[$0] ?? 0) \($0.rawValue)</span>"
            }.joined(separator: ", ") + "</p>"

        // Charts.
        func name(_ r: LabelResult) -> String {
            names[r.label].flatMap { $0.isEmpty ? nil : "\(r.label) \($0)" } ?? String(r.label)
        }
        func note(_ r: LabelResult) -> String? { r.status == .matched ? nil : r.status.rawValue }
        let byDice = evaluation.labels.sorted { ($0.dice, $0.label) < ($1.dice, $1.label) }
        let diceChart = barChart(
            title: "Dice per structure (worst first)",
            items: byDice.map { (name($0), $0.status == .missed || $0.status == .spurious ? nil : $0.dice, note($0)) },
            maximum: 1, unit: "", digits: 3)
        let hd = { (r: LabelResult) in r.surface[preset]?.hdPercentileMM }
        let byHD = evaluation.labels.sorted { (hd($0) ?? .infinity, $0.label) > (hd($1) ?? .infinity, $1.label) }
        let finiteHD = evaluation.labels.compactMap(hd).filter(\.isFinite).max() ?? 1
        let hdChart = barChart(
            title: "HD\(q) per structure (worst first), mm", items: byHD.map { (name($0), hd($0), note($0)) },
            maximum: max(finiteHD, 1e-9), unit: "", digits: 2)
        body +=
            "<h2>Scores</h2><div class=\"charts\"><div class=\"chart\">\(diceChart)</div><div class=\"chart\">\(hdChart)</div></div>"

        // Slices of the worst structures.
        if let slices {
            let reference = slices.reference
            body +=
                "<h2>Where the worst structures fail</h2><p class=\"legend\"><span><i class=\"sw\" style=\"background:#00dc00\"></i>reference contour</span>"
            body +=
                "<span><i class=\"sw\" style=\"background:#ff00ff\"></i>prediction contour</span><span><i class=\"sw\" style=\"background:#fff;border:1px solid #999\"></i>both</span>"
            body +=
                "<span><i class=\"sw\" style=\"background:#ffdc00\"></i>where the Hausdorff distance is reached</span></p>"
            _ = reference
            for r in worst(evaluation.labels, preset: preset) {
                guard let detail = r.detail else { continue }
                let (voxel, distance, box) = (detail.hausdorffVoxel, detail.hausdorffMM, detail.box)
                body +=
                    "<h3>\(escape(name(r))): Dice \(Format.fixed(r.dice, 3)), HD\(q) \(Format.fixed(hd(r), 2)) mm, Hausdorff \(Format.fixed(distance, 2)) mm at voxel (\(voxel.x), \(voxel.y), \(voxel.z))</h3><div class=\"slices\">"
                for plane in SliceImages.Plane.allCases {
                    let image = slices.render(label: r.label, plane: plane, voxel: voxel, box: box)
                    let png = PNG.base64(PNG.encode(image))
                    let position =
                        plane == .axial ? "k = \(voxel.z)" : (plane == .coronal ? "j = \(voxel.y)" : "i = \(voxel.x)")
                    body +=
                        "<figure><img alt=\"\(plane.name) slice\" width=\"\(image.width)\" height=\"\(image.height)\" src=\"data:image/png;base64,\(png)\"><figcaption>\(plane.name), \(position)</figcaption></figure>"
                }
                body += "</div>"
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

    /// The batch report: aggregates, strip plots across cases, failed cases, cases without
    /// a prediction, gate failures.
    public static func batch(_ result: BatchResult, gateFailures: [GateFailure]) -> String {
        let summary = result.summary
        let settings = result.settings
        let hd = MetricColumn(.hdPercentile)
        let hdKey = settings.columnName(hd)
        var body =
            "<h1>MaskEval batch report</h1><div class=\"meta\">\(summary.caseCount) cases; \(settings.primary.rawValue) preset; MaskEval \(MaskEvalVersion.string)</div>"
        let structures = summary.structures
        func title(_ s: (label: Int32, name: String, rows: [LabelRow])) -> String {
            s.name.isEmpty ? String(s.label) : "\(s.label) \(s.name)"
        }
        let dice = structures.map { (title($0), $0.rows.compactMap { $0[.dice] }) }
        let hds = structures.map { (title($0), $0.rows.compactMap { $0[.hdPercentile] }) }
        let maxHD = hds.flatMap(\.1).filter(\.isFinite).max() ?? 1
        body += "<h2>Across cases</h2><div class=\"charts\"><div class=\"chart\">"
        body += stripPlot(title: "Dice per case", rows: dice, maximum: 1, digits: 1)
        body +=
            "</div><div class=\"chart\">"
            + stripPlot(title: "\(hdKey) per case", rows: hds, maximum: max(maxHD, 1e-9), digits: 1) + "</div></div>"
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
        var errors: [String: String] = [:]
        for row in result.rows where row.status == .error { errors[row.caseID] = row.error }
        body += "<h2>Failed cases (\(errors.count))</h2>"
        body +=
            errors.isEmpty
            ? "<p>None.</p>"
            : "<table><tbody>"
                + errors.sorted { $0.key < $1.key }.map {
                    "<tr><td class=\"t error\">\(escape($0.key))</td><td class=\"t\">\(escape($0.value))</td></tr>"
                }.joined() + "</tbody></table>"
        let missing = summary.casesWithoutPrediction
        body += "<h2>Cases without a prediction (\(missing.count))</h2>"
        body += missing.isEmpty ? "<p>None.</p>" : "<p>" + missing.map(escape).joined(separator: ", ") + "</p>"
        body += "<h2>Gate failures (\(gateFailures.count))</h2>"
        body +=
            gateFailures.isEmpty
            ? "<p>None.</p>"
            : "<div class=\"scroll\"><table><tbody>"
                + gateFailures.map { "<tr><td class=\"t\">\(escape($0.description))</td></tr>" }.joined()
                + "</tbody></table></div>"
        return page(title: "MaskEval batch report", body: body)
    }
}
