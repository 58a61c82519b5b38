// The HekiActors dashboard: one script for the live page (polls the feed) and the HTML report (the feed embedded).
// Every label and definition comes from the feed's vocabulary (observability/HekiVocabulary.cs); every final figure
// from the JSON report the feed carries: nothing here names or computes a count of its own.
(function () {
  "use strict";

  // Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), fixed per series key so a
  // series has the same colour on every page; line styles and direct labels carry the meaning too.
  const PALETTE = {
    blue: "#0072B2", vermillion: "#D55E00", green: "#009E73", purple: "#CC79A7",
    orange: "#E69F00", sky: "#56B4E9", black: "#222222",
  };
  const COLOURS = {
    "accesses": PALETTE.blue,
    "page_faults.read": PALETTE.sky, "page_faults.write": PALETTE.vermillion, "page_faults.exec": PALETTE.purple,
    "cr_pin_blocks": PALETTE.orange,
    "attacks_blocked": PALETTE.green, "attacks_succeeded": PALETTE.vermillion,
    "warnings_emitted": PALETTE.blue, "warnings_suppressed": PALETTE.orange,
    "vms_booted": PALETTE.blue, "boot_protection_failures": PALETTE.vermillion,
    "spans_dropped": PALETTE.orange, "export_failures": PALETTE.vermillion,
  };
  const PERCENTILE_COLOURS = { p50: PALETTE.blue, p90: PALETTE.orange, p99: PALETTE.vermillion };
  const DASHES = [[], [10, 5], [2, 4], [12, 4, 2, 4]];
  const LABEL_FONT = "600 11px system-ui, sans-serif"; // the lines' end labels (scaled by the device's pixel ratio)
  const DASH_NAMES = ["solid", "dashed", "dotted", "dashed"]; // the legend's marker for each line style

  const live = window.HEKI_LIVE || null;
  const state = { feed: null, runs: [], charts: {}, plots: {}, selected: null, failures: 0, timer: null };
  window.heki = state; // read by the browser tests: what each chart holds

  // ---- numbers ----------------------------------------------------------------------------------------------

  function count(v) { return v == null ? "–" : Math.round(v).toLocaleString("en-US"); }

  // A count, or a mean per boot with one decimal (the text report's guest-kernel rows).
  function perBoot(v) { return Number.isInteger(v) ? count(v) : v.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 }); }

  // A duration given in nanoseconds, in the unit of the text report (ReportFormat.Duration): 14 ns, 3.20 µs, 1.32 ms.
  function duration(ns) {
    if (ns == null || !isFinite(ns)) return "–";
    let scale = 1, unit = "ns";
    if (ns >= 1e9) { scale = 1e9; unit = "s"; } else if (ns >= 1e6) { scale = 1e6; unit = "ms"; } else if (ns >= 1e3) { scale = 1e3; unit = "µs"; }
    const v = ns / scale;
    const text = scale === 1 ? v.toFixed(0) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
    return text + " " + unit;
  }

  // A rate scaled like the text report's (ReportFormat.Rate): 61.7 M.
  function rate(v) {
    if (v == null || !isFinite(v)) return "–";
    if (v >= 1e9) return (v / 1e9).toFixed(1) + " G";
    if (v >= 1e6) return (v / 1e6).toFixed(1) + " M";
    if (v >= 1e3) return (v / 1e3).toFixed(1) + " k";
    return v.toFixed(0);
  }

  function axisNumber(v) {
    if (v == null) return "";
    const a = Math.abs(v);
    if (a >= 1e9) return +(v / 1e9).toPrecision(3) + "G";
    if (a >= 1e6) return +(v / 1e6).toPrecision(3) + "M";
    if (a >= 1e3) return +(v / 1e3).toPrecision(3) + "k";
    return +v.toPrecision(3) + "";
  }

  function axisDuration(ns) {
    if (ns == null) return ""; // a log axis leaves minor ticks unlabelled
    if (ns >= 1e9) return +(ns / 1e9).toPrecision(3) + " s";
    if (ns >= 1e6) return +(ns / 1e6).toPrecision(3) + " ms";
    if (ns >= 1e3) return +(ns / 1e3).toPrecision(3) + " µs";
    return +ns.toPrecision(3) + " ns";
  }

  // ---- DOM helpers --------------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children || []) if (child != null) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return node;
  }

  function byId(id) { return document.getElementById(id); }

  function vocabulary(key) {
    const all = state.feed.vocabulary;
    return all.counts.find(c => c.key === key) || all.latencies.find(l => l.key === key) || { key: key, label: key, definition: "" };
  }

  // ---- series ---------------------------------------------------------------------------------------------------

  // Merges a feed's timeline slice into what the page holds for that run (points from `from` on are new).
  function merge(run, incoming) {
    const slice = incoming.timeline;
    if (!run.timeline || run.timeline.epoch !== slice.epoch || slice.from === 0) {
      run.timeline = { epoch: slice.epoch, t: slice.t.slice(), series: {} };
      for (const [k, v] of Object.entries(slice.series)) run.timeline.series[k] = v.slice();
    } else {
      run.timeline.t.length = slice.from;
      run.timeline.t.push(...slice.t);
      for (const [k, v] of Object.entries(slice.series)) {
        const s = run.timeline.series[k] || (run.timeline.series[k] = []);
        s.length = slice.from;
        s.push(...v);
      }
    }
    for (const key of ["label", "phase", "fraction", "vms_booted", "vms_total", "seconds", "figures", "offenders"]) run[key] = incoming[key];
  }

  // The y values a chart plots for one series: a running total as it is, or its increase per second.
  function values(chart, run, key) {
    const t = run.timeline.t, v = run.timeline.series[key] || [];
    if (chart.kind !== "rate") return v.map(x => (x == null ? null : x));
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      out[i] = i === 0 || t[i] <= t[i - 1] || v[i] == null || v[i - 1] == null ? null : Math.max(0, (v[i] - v[i - 1]) / (t[i] - t[i - 1]));
    }
    return out;
  }

  function colour(chart, series, index) {
    if (chart.kind === "latency") return PERCENTILE_COLOURS[series.label] || PALETTE.black;
    return COLOURS[series.key] || Object.values(PALETTE)[index % 7];
  }

  // ---- charts ---------------------------------------------------------------------------------------------------

  // Draws each series' label at its last point, so a line is named where it ends (not by colour alone).
  function endLabels() {
    return {
      hooks: {
        draw: [u => {
          const ctx = u.ctx;
          ctx.save();
          ctx.font = LABEL_FONT.replace("11px", Math.round(11 * devicePixelRatio) + "px");
          ctx.textBaseline = "middle";
          ctx.textAlign = "left"; // uPlot leaves the context as its axes drew: the label starts where the line ends
          const used = [];
          for (let s = 1; s < u.series.length; s++) {
            const data = u.data[s];
            let i = data.length - 1;
            while (i >= 0 && data[i] == null) i--;
            if (i < 0 || !u.series[s].show) continue;
            const x = u.valToPos(u.data[0][i], "x", true);
            let y = u.valToPos(data[i], "y", true);
            // Nudge labels apart when two lines end at the same height.
            while (used.some(p => Math.abs(p - y) < 12 * devicePixelRatio)) y -= 12 * devicePixelRatio;
            used.push(y);
            const text = u.series[s].label;
            // In the plot's right padding, past the line's end: a label never covers a line.
            const left = x + 6 * devicePixelRatio;
            ctx.fillStyle = u.series[s].stroke(u, s);
            ctx.fillText(text, left, y);
          }
          ctx.restore();
        }],
      },
    };
  }

  function sharedRange(chart) {
    // Side by side (both profiles), one scale for every run: a difference reads as a difference in height.
    let min = Infinity, max = 0;
    for (const run of state.runs) {
      if (!run.timeline) continue;
      for (const s of chart.series) {
        for (const v of values(chart, run, s.key)) {
          if (v == null || !isFinite(v)) continue;
          if (v > max) max = v;
          if (v > 0 && v < min) min = v;
        }
      }
    }
    return { min: min === Infinity ? 1 : min, max: max };
  }

  // One time axis for every run too, from the start: the profiles' runs read against the same seconds.
  function sharedDuration() {
    let end = 0;
    for (const run of state.runs) {
      const t = run.timeline ? run.timeline.t : [];
      if (t.length > 0 && t[t.length - 1] > end) end = t[t.length - 1];
    }
    return Math.max(1, end);
  }

  // Room right of the plot for the longest end label of the chart, so no label is cut at the edge.
  function labelRoom(chart) {
    const ctx = document.createElement("canvas").getContext("2d");
    ctx.font = LABEL_FONT;
    return Math.ceil(12 + Math.max(...chart.series.map(s => ctx.measureText(s.label).width)));
  }

  function plotOptions(chart, width) {
    const latency = chart.kind === "latency";
    return {
      width: width,
      height: 220,
      padding: [12, labelRoom(chart), 0, 0],
      legend: { live: true, markers: { dash: (u, i) => DASH_NAMES[(i - 1) % DASH_NAMES.length] } },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: false, range: () => [0, sharedDuration()] },
        y: latency
          ? { distr: 3, range: () => { const r = sharedRange(chart); return uPlot.rangeLog(Math.max(1, r.min), Math.max(10, r.max), 10, true); } }
          : { range: () => { const r = sharedRange(chart); return [0, r.max > 0 ? r.max * 1.08 : 1]; } },
      },
      axes: [
        { label: "time since the run started (s)", values: (u, ticks) => ticks.map(t => (t == null ? "" : +t.toFixed(1) + "")) },
        { label: chart.unit, size: 64, values: (u, ticks) => ticks.map(latency ? axisDuration : axisNumber) },
      ],
      series: [
        // The legend names the lines; values appear under the cursor only (nothing to read when it is away).
        { label: "time", value: (u, v) => (v == null ? "" : "at " + v.toFixed(1) + " s") },
        ...chart.series.map((s, i) => ({
          label: s.label,
          stroke: colour(chart, s, i),
          width: 2,
          dash: DASHES[i % DASHES.length],
          points: { show: false },
          spanGaps: latency,
          value: (u, v) => (v == null ? "" : latency ? duration(v) : chart.kind === "rate" ? rate(v) + "/s" : count(v)),
        })),
      ],
      plugins: [endLabels()],
    };
  }

  function buildCharts() {
    const host = byId("charts");
    host.textContent = "";
    for (const chart of state.feed.charts) {
      state.charts[chart.key] = chart;
      const row = el("div", { class: "plots" });
      const figure = el("figure", { class: "chart", id: "chart-" + chart.key, "data-chart": chart.key }, [
        el("figcaption", {}, [el("span", { class: "title", text: chart.title }), el("span", { class: "unit", text: chart.unit })]),
        row,
      ]);
      host.appendChild(figure);
    }
  }

  function drawCharts() {
    for (const chart of state.feed.charts) {
      const row = document.querySelector(`#chart-${chart.key} .plots`);
      state.runs.forEach((run, r) => {
        if (!run.timeline) return;
        const id = chart.key + "/" + r;
        const data = [run.timeline.t.slice(), ...chart.series.map(s => values(chart, run, s.key))];
        let plot = state.plots[id];
        if (!plot) {
          const cell = el("div", { class: "plot", "data-run": r, role: "img" }, [el("div", { class: "run-label", text: run.label })]);
          row.appendChild(cell);
          const width = Math.max(320, Math.floor((row.clientWidth - 16 * (state.runs.length - 1)) / Math.max(1, expectedRuns())) - 4);
          plot = new uPlot(plotOptions(chart, width), data, cell);
          state.plots[id] = plot;
        } else {
          plot.setData(data);
        }
        const cell = plot.root.parentNode;
        cell.setAttribute("aria-label", describe(chart, run, data));
        cell.dataset.points = String(data[0].length);
      });
    }
    // Each plot's scale is shared with its neighbours: redraw all once the data are in.
    for (const plot of Object.values(state.plots)) plot.redraw(false, true);
  }

  function expectedRuns() {
    const report = state.feed.report;
    if (report) return report.runs.length;
    return Math.max(state.runs.length, (state.feed.profiles || []).length, 1);
  }

  // The chart in words, for screen readers: each series' last value.
  function describe(chart, run, data) {
    const parts = chart.series.map((s, i) => {
      const ys = data[i + 1];
      let j = ys.length - 1;
      while (j >= 0 && ys[j] == null) j--;
      const v = j < 0 ? null : ys[j];
      return `${s.label} ${chart.kind === "latency" ? duration(v) : chart.kind === "rate" ? rate(v) + "/s" : count(v)}`;
    });
    return `${chart.title}, ${run.label}: latest ${parts.join(", ")}`;
  }

  // ---- status and figures ---------------------------------------------------------------------------------------

  function drawStatus() {
    const host = byId("status");
    host.textContent = "";
    const feed = state.feed;
    state.runs.forEach((run, r) => {
      const pct = Math.round(100 * Math.min(1, Math.max(0, run.fraction || 0)));
      host.appendChild(el("div", { class: "run-status", "data-run": r, "data-phase": run.phase }, [
        el("span", { class: "run-name", text: run.label }),
        el("span", { class: "phase phase-" + run.phase, text: run.phase }),
        el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct), "aria-label": `${run.label} ${run.phase} progress` },
          [el("div", { class: "fill", style: `width:${pct}%` })]),
        el("span", { class: "pct", text: pct + "%" }),
        el("span", { class: "meta", text: `${(run.seconds || 0).toFixed(1)} s · VMs ${count(run.vms_booted)}/${count(run.vms_total)}` }),
      ]));
    });
    const stateText = feed.state === "running" ? (live ? "live · updating every 0.5 s" : "running") : feed.state === "stopped" ? "stopped early (Ctrl+C): the counts cover the part that ran" : "finished";
    byId("state").textContent = stateText;
    byId("state").dataset.state = feed.state;
  }

  // While the run goes on: the live counts (vocabulary keys) per run. Once over: the report's figures.
  function drawFigures() {
    const host = byId("figures");
    host.textContent = "";
    const report = state.feed.report;
    if (report) { host.appendChild(reportTable(report)); return; }
    const table = el("table", { class: "figures", id: "live-figures" }, [
      el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "live figure" }), ...state.runs.map(r => el("th", { scope: "col", text: r.label }))])]),
    ]);
    const body = el("tbody");
    for (const key of state.feed.live_counts) {
      const v = vocabulary(key);
      body.appendChild(el("tr", {}, [
        el("th", { scope: "row", title: v.definition, text: v.label }),
        ...state.runs.map((run, r) => el("td", { "data-key": key, "data-run": r, "data-value": String(run.figures[key] ?? ""), text: count(run.figures[key]) })),
      ]));
    }
    table.appendChild(body);
    host.appendChild(table);
  }

  function cell(key, run, value, text) {
    return el("td", { "data-key": key, "data-run": run, "data-value": value == null ? "" : String(value), text: text });
  }

  // The report table: every row of the text report, from the JSON report, labelled by the vocabulary.
  function reportTable(report) {
    const runs = report.runs;
    const table = el("table", { class: "figures", id: "report-table" });
    table.appendChild(el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "figure" }), ...runs.map(r => el("th", { scope: "col", text: r.profile }))])]));
    const body = el("tbody");
    const row = (label, definition, cells, sub) => body.appendChild(el("tr", { class: sub ? "sub" : null }, [el("th", { scope: "row", title: definition || null, text: label }), ...cells]));
    row("VMs", "", runs.map((r, i) => cell("vms", i, r.vms, count(r.vms))));
    row("vCPUs", "", runs.map((r, i) => cell("vcpus_total", i, r.vcpus_total, count(r.vcpus_total))));
    row("elapsed (boot)", "", runs.map((r, i) => cell("elapsed_seconds", i, r.elapsed_seconds, `${r.elapsed_seconds.toFixed(1)} s (${r.boot_seconds.toFixed(1)} s)`)));
    for (const c of state.feed.vocabulary.counts) {
      if (!(c.key in runs[0].counts)) continue;
      row(c.label, c.definition, runs.map((r, i) => cell("counts." + c.key, i, r.counts[c.key], count(r.counts[c.key]))), c.sub);
      if (c.key === "accesses") {
        row("throughput", "Simulated accesses (workload and attack) per second over the workload phase.",
          runs.map((r, i) => cell("accesses_per_second", i, r.accesses_per_second, rate(r.accesses_per_second) + " accesses/s")), true);
      }
    }
    for (const l of state.feed.vocabulary.latencies) {
      for (const p of ["p50", "p90", "p99", "max"]) {
        row(`${l.label} ${p}`, l.definition, runs.map((r, i) => {
          const lat = r.latency_ns[l.key];
          return cell(`latency_ns.${l.key}.${p}`, i, lat.count === 0 ? null : lat[p], lat.count === 0 ? "n/a" : duration(lat[p]));
        }), p !== "p50");
      }
    }
    const telemetry = report.telemetry;
    for (const key of ["spans_dropped", "export_failures"]) {
      const v = vocabulary(key);
      row(v.label, v.definition, runs.map((r, i) => i === 0 ? cell("telemetry." + key, i, telemetry[key], count(telemetry[key])) : el("td", { text: "(per process)" })));
    }
    table.appendChild(body);
    return table;
  }

  function drawReportSections() {
    const report = state.feed.report;
    const host = byId("details");
    host.textContent = "";
    if (!report) return;
    const runs = report.runs;
    // Attacks per kind and profile, side by side.
    const attacks = el("table", { class: "figures", id: "attacks-table" });
    attacks.appendChild(el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "attack" }), ...runs.flatMap(r => ["attempted", "blocked", "succeeded"].map(h => el("th", { scope: "col", text: `${r.profile} ${h}` })))])]));
    const body = el("tbody");
    for (let k = 0; k < runs[0].attacks.length; k++) {
      const kind = runs[0].attacks[k].kind;
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: kind }), ...runs.flatMap((r, i) => ["attempted", "blocked", "succeeded"].map(f =>
        cell(`attacks.${kind}.${f}`, i, r.attacks[k][f], count(r.attacks[k][f]))))]));
    }
    attacks.appendChild(body);
    host.appendChild(el("section", { class: "card" }, [el("h2", { text: "Attacks by kind" }), attacks,
      ...runs.flatMap(r => r.attacks.filter(a => a.succeeded > 0 && a.why).map(a => el("p", { class: "note", text: `${r.profile}: ${a.kind} succeeded because ${a.why}` })))]));
    const failures = runs.flatMap(r => r.boot_failures.map(f => ({ profile: r.profile, ...f })));
    if (failures.length > 0) {
      host.appendChild(el("section", { class: "card warning" }, [el("h2", { text: "VMs without boot protection" }),
        el("ul", {}, failures.map(f => el("li", { text: `${f.profile}: ${count(f.vms)} VM(s) (e.g. ${f.first_vm}): ${f.reason}` })))]));
    }
    const kernels = runs.filter(r => r.guest_kernel);
    if (kernels.length > 0) host.appendChild(guestKernel(kernels));
  }

  // The guest kernel's own protections (a section of the report when a real kernel ran), flattened field by field.
  function guestKernel(runs) {
    const rows = [];
    const walk = (prefix, value, runIndex) => {
      for (const [k, v] of Object.entries(value)) {
        const key = prefix ? prefix + "." + k : k;
        if (v && typeof v === "object") walk(key, v, runIndex);
        else {
          let row = rows.find(x => x.key === key);
          if (!row) rows.push(row = { key: key, values: [] });
          row.values[runIndex] = v;
        }
      }
    };
    runs.forEach((r, i) => walk("", r.guest_kernel, i));
    const table = el("table", { class: "figures", id: "guest-kernel-table" });
    table.appendChild(el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "guest kernel" }), ...runs.map(r => el("th", { scope: "col", text: r.profile }))])]));
    const body = el("tbody");
    for (const row of rows) {
      body.appendChild(el("tr", {}, [el("th", { scope: "row", text: row.key.replace(/_/g, " ").replace(/\./g, ": ") }),
        ...runs.map((r, i) => cell("guest_kernel." + row.key, i, row.values[i], typeof row.values[i] === "number" ? perBoot(row.values[i]) : String(row.values[i] ?? "")))]));
    }
    table.appendChild(body);
    return el("section", { class: "card" }, [el("h2", { text: "Guest kernel protections" }), table]);
  }

  // ---- offenders ------------------------------------------------------------------------------------------------

  function drawOffenders() {
    const host = byId("offenders");
    host.textContent = "";
    const labels = ["violations", "page_faults", "cr_pin_blocks"].map(k => vocabulary(k));
    state.runs.forEach((run, r) => {
      const table = el("table", { class: "figures offenders", "data-run": r }, [
        el("caption", { text: run.label }),
        el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "VM" }), ...labels.map(l => el("th", { scope: "col", title: l.definition, text: l.label }))])]),
      ]);
      const body = el("tbody");
      for (const o of run.offenders || []) {
        const selected = state.selected && state.selected.run === r && state.selected.vm === o.vm;
        body.appendChild(el("tr", { class: selected ? "selected" : null }, [
          el("th", { scope: "row" }, [el("button", { type: "button", class: "vm", "data-vm": o.vm, "aria-pressed": selected ? "true" : "false", onclick: () => select(r, o.vm) }, [o.vm])]),
          ...labels.map(l => el("td", { text: count(o[l.key]) })),
        ]));
      }
      if (!run.offenders || run.offenders.length === 0) body.appendChild(el("tr", {}, [el("td", { colspan: "4", class: "empty", text: "no violations yet" })]));
      table.appendChild(body);
      host.appendChild(table);
    });
  }

  async function select(run, vm) {
    state.selected = { run: run, vm: vm };
    drawOffenders();
    const host = byId("events");
    host.textContent = "";
    let data = (state.runs[run].offenders || []).find(o => o.vm === vm);
    if (!data || !data.events) {
      if (!live) return;
      try {
        const response = await fetch(`${live.vm}?run=${run}&id=${encodeURIComponent(vm)}`, { cache: "no-store" });
        if (!response.ok) throw new Error(response.status);
        data = await response.json();
      } catch (e) {
        host.appendChild(el("p", { class: "note", text: `${vm}: the events could not be read (${e.message}); the run may be over.` }));
        return;
      }
    }
    host.appendChild(el("h3", { text: `${vm} (${state.runs[run].label}): its last ${data.events.length} events` }));
    host.appendChild(el("table", { class: "figures events", id: "vm-events" }, [
      el("thead", {}, [el("tr", {}, ["time", "what", "kernel warning", "printed"].map(h => el("th", { scope: "col", text: h })))]),
      el("tbody", {}, data.events.slice().reverse().map(e => el("tr", {}, [
        el("td", { text: e.t.toFixed(3) + " s" }), el("td", { text: e.what }), el("td", { class: "mono", text: e.text }),
        el("td", { text: e.printed ? "printed" : "suppressed (rate limit)" }),
      ]))),
    ]));
  }

  // ---- header and reproduction ----------------------------------------------------------------------------------

  function drawHeader() {
    const f = state.feed;
    byId("title").textContent = `${f.title}: scenario ${f.scenario}, seed ${f.seed}`;
    byId("description").textContent = f.description;
    const host = byId("reproduce");
    host.textContent = "";
    host.appendChild(el("h2", { text: "Reproduce" }));
    host.appendChild(el("pre", { class: "command", id: "command", text: f.command }));
    const facts = [`scenario: ${f.scenario}${f.scenario_file ? ` (file ${f.scenario_file})` : " (built in)"}`, `seed: ${f.seed}`];
    if (f.records.length > 0) facts.push(`recorded operations (heki replay): ${f.records.join(", ")}`);
    host.appendChild(el("ul", {}, facts.map(t => el("li", { text: t }))));
    host.appendChild(el("p", { class: "note", text: "The same scenario and seed give the same counts when the workload is bounded by accesses (--accesses-per-vcpu); a duration bound stops it where the clock says." }));
  }

  // ---- feed ---------------------------------------------------------------------------------------------------------

  function apply(feed, full) {
    if (full) {
      state.feed = feed;
      state.runs = [];
      state.plots = {};
    } else {
      for (const key of ["state", "report", "live_counts"]) state.feed[key] = feed[key];
    }
    feed.runs.forEach((incoming, r) => {
      const run = state.runs[r] || (state.runs[r] = {});
      merge(run, incoming);
    });
    if (full) {
      document.body.classList.toggle("side-by-side", expectedRuns() > 1);
      drawHeader();
      buildCharts();
    }
    drawStatus();
    drawFigures();
    drawCharts();
    drawOffenders();
    drawReportSections();
    document.body.dataset.state = state.feed.state;
    if (state.selected && !live) select(state.selected.run, state.selected.vm);
  }

  async function poll() {
    if (state.busy) return; // one request at a time: a slow answer must not be overtaken by the next poll
    state.busy = true;
    try {
      await pollOnce();
    } finally {
      state.busy = false;
    }
  }

  async function pollOnce() {
    const since = state.feed ? "?since=" + state.runs.map(r => `${r.timeline.epoch}:${r.timeline.t.length}`).join(",") : "";
    const started = performance.now();
    try {
      const response = await fetch(live.feed + since, { cache: "no-store" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const feed = await response.json();
      apply(feed, !state.feed);
      state.failures = 0;
      state.lastUpdateMs = performance.now() - started;
      byId("updated").textContent = `updated ${new Date().toLocaleTimeString()} (${Math.round(state.lastUpdateMs)} ms)`;
      if (feed.report) {
        clearInterval(state.timer);
        byId("updated").textContent += " · final: the report's figures";
      }
    } catch (e) {
      if (++state.failures >= 6) {
        clearInterval(state.timer);
        byId("updated").textContent = "disconnected: heki is no longer serving this page (the figures shown are the last received)";
      }
    }
  }

  function start() {
    if (live) {
      poll();
      state.timer = setInterval(poll, live.intervalMs || 500);
    } else {
      apply(JSON.parse(byId("heki-feed").textContent), true);
    }
    let resize = null;
    window.addEventListener("resize", () => {
      clearTimeout(resize);
      resize = setTimeout(() => {
        for (const [id, plot] of Object.entries(state.plots)) {
          const row = plot.root.parentNode.parentNode;
          plot.setSize({ width: Math.max(320, Math.floor((row.clientWidth - 16 * (state.runs.length - 1)) / Math.max(1, expectedRuns())) - 4), height: 220 });
        }
      }, 150);
    });
  }

  start();
})();
