// The page's settings: every key's type, the contract's defaults, and the URL hash format
// (`#activation=tanh&hidden=4,2&features=x1,x2`, values URL-encoded, lists comma-joined).

/** Every settings key and how its text in the URL hash is parsed. */
export const TYPES = {
  dataset: "str", problem: "str", noise: "int", percTrainData: "int", batchSize: "int",
  numSamples: "int", features: "list", hidden: "ints", activation: "str", init: "str",
  batchNorm: "bool", dropout: "float", optimizer: "str", momentum: "float",
  learningRate: "float", regularization: "str", regularizationRate: "float", loss: "str",
  clipGradNorm: "float", seed: "int", showTestData: "bool", discretize: "bool",
};
/** The contract's defaults, shown until the server's hello arrives. */
export const DEFAULTS = {
  dataset: "circle", problem: "classification", noise: 0, percTrainData: 50, batchSize: 10,
  numSamples: 500, features: ["x1", "x2"], hidden: [4, 2], activation: "tanh", init: "xavier",
  batchNorm: false, dropout: 0, optimizer: "sgd", momentum: 0.9, learningRate: 0.03,
  regularization: "none", regularizationRate: 0, loss: "auto", clipGradNorm: 0,
  seed: 0, showTestData: false, discretize: false,
};

/** Settings from the URL hash (`#activation=tanh&hidden=4,2`); unknown keys are ignored. */
export function parseHash(hash) {
  const out = {};
  for (const part of hash.replace(/^#/, "").split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = decodeURIComponent(part.slice(0, eq));
    const raw = part.slice(eq + 1);
    const type = TYPES[key];
    if (!type) continue;
    const text = decodeURIComponent(raw);
    if (type === "str") out[key] = text;
    else if (type === "bool") out[key] = text === "true" || text === "1";
    else if (type === "int" || type === "float") {
      const v = Number(text);
      if (text !== "" && Number.isFinite(v)) out[key] = v;
    } else if (type === "list") {
      out[key] = raw === "" ? [] : raw.split(",").map(decodeURIComponent);
    } else if (type === "ints") {
      out[key] = raw === "" ? [] : raw.split(",").map(Number);
    }
  }
  return out;
}

/** The URL hash text of a settings object (lists joined with commas). */
export function formatHash(settings) {
  return Object.keys(TYPES)
    .filter((k) => settings[k] !== undefined && settings[k] !== null)
    .map((k) => {
      const v = settings[k];
      const text = Array.isArray(v) ? v.map((x) => encodeURIComponent(x)).join(",")
        : encodeURIComponent(String(v));
      return `${k}=${text}`;
    })
    .join("&");
}

/** Let a canvas or div that acts on click be reached with Tab and pressed with Enter/Space. */
export function clickableByKeyboard(el, label) {
  el.tabIndex = 0;
  el.setAttribute("role", "button");
  if (label) el.setAttribute("aria-label", label);
  el.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      el.click();
    }
  });
}
