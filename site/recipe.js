// Recipes: the page's settings as the options JSON it sends to the
// converter (which `litequant quantize --config recipe.json` reads), and
// as the exact `litequant quantize` command line.

// Options only the page has (the worker pool); the CLI has no such flag.
const PAGE_ONLY = new Set(["threads"]);

// quote quotes an argument for a POSIX shell when it needs it.
export function quote(s) {
  s = String(s);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

// sampleArgs names the samples as the CLI takes them: their one common
// top folder when they all came from one, else each file.
function sampleArgs(flag, files) {
  const paths = files.map((f) => f.relPath || f.webkitRelativePath || f.name);
  const tops = new Set(paths.map((p) => (p.includes("/") ? p.split("/")[0] : "")));
  if (tops.size === 1 && !tops.has("")) return [flag, [...tops][0]];
  return paths.flatMap((p) => [flag, p]);
}

// commandLine is the litequant quantize command for these options
// (options() of the page), model file, samples and output name. verifyOn
// is "samples" when the chosen samples check a dynamic or float16 result.
export function commandLine(opts, model, samples, out, verifyOn) {
  const args = ["litequant", "quantize"];
  for (const [k, v] of Object.entries(opts)) {
    if (PAGE_ONLY.has(k) || v === undefined || v === null || v === "" || v === false) continue;
    const flag = `--${k.replace(/_/g, "-")}`;
    if (v === true) args.push(flag);
    else if (Array.isArray(v)) for (const x of v) args.push(flag, x);
    else args.push(flag, v);
  }
  if (samples.length) args.push(...sampleArgs(verifyOn === "samples" ? "--verify" : "--calib", samples));
  args.push("-o", out, model);
  return args.map(quote).join(" ");
}

// recipeJSON is the saved recipe: the options object, pretty-printed.
export function recipeJSON(opts) {
  return JSON.stringify(opts, null, 2) + "\n";
}

// applyRecipe sets the page's controls from a recipe object: mode and
// every [data-option] control; it returns the keys no control takes.
export function applyRecipe(r, root = document) {
  const unknown = [];
  const controls = new Map([...root.querySelectorAll("[data-option]")].map((c) => [c.dataset.option, c]));
  for (const c of controls.values()) {
    if (c.dataset.type === "bool") c.checked = false;
    else if (c.id !== "mode") c.value = "";
  }
  for (const [k, v] of Object.entries(r)) {
    const c = controls.get(k);
    if (!c) { if (!["verify_split", "verify_random"].includes(k)) unknown.push(k); continue; }
    if (c.dataset.type === "bool") c.checked = !!v;
    else c.value = Array.isArray(v) ? v.join("; ") : String(v);
  }
  return unknown;
}
