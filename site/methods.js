// Calibration methods: the percentile field is only for the percentile and
// auto methods, and the report's one-line summary of the method used.

const WITH_PERCENTILE = new Set(["percentile", "auto"]);

// percentileApplies reports whether the chosen method takes --percentile.
export function percentileApplies() {
  const m = document.querySelector("#calibration");
  return !!m && WITH_PERCENTILE.has(m.value);
}

// updateCalibration enables the percentile field for the methods that take it.
export function updateCalibration() {
  const p = document.querySelector("#percentile");
  const m = document.querySelector("#calibration");
  if (p && m) p.disabled = m.disabled || !percentileApplies();
}

// methodSummary describes calibration.method (and auto's picks) for the
// report, or "" for the default min/max.
export function methodSummary(c) {
  if (!c || !c.method || (c.method === "minmax" && !c.auto)) return "";
  let s = c.method + (c.method === "percentile" && c.percentile ? ` ${c.percentile}` : "");
  if (c.methods && c.methods.length) {
    const won = {};
    for (const x of c.methods) won[x.method] = (won[x.method] || 0) + 1;
    s += "; per tensor: " + Object.entries(won).map(([m, n]) => `${m} ${n}`).join(", ");
  }
  if (c.auto) {
    if (c.auto.note) s += `; ${c.auto.note}`;
    else {
      const worst = (c.auto.candidates || []).map((x) => `${x.method} ${x.worst_sqnr_db == null ? "exact" : x.worst_sqnr_db.toFixed(1) + " dB"}`);
      s += `; whole model kept: ${c.auto.kept} (worst output SQNR: ${worst.join(", ")})`;
    }
  }
  return s;
}
