// The network diagram: input features with their maps, hidden neurons as small heat maps,
// edges as SVG paths coloured by the weight's sign and value (TF colours), width by |w|.

import { LUT, LUT_DISCRETE, decodeB64, paintMap, rgbOf } from "./charts.js";

const SVGNS = "http://www.w3.org/2000/svg";
const TOP = 52; // room above the hidden columns for the +/- neuron controls
const RECT = 30; // TF's node size
const STEP = 55; // TF's node spacing (30 + 25)
const MAX_HEIGHT = 520; // a column taller than this shrinks its nodes
const LABELS = {
  x1: "x\u2081", x2: "x\u2082", "x1^2": "x\u2081\u00b2", "x2^2": "x\u2082\u00b2",
  "x1*x2": "x\u2081x\u2082", "sin(x1)": "sin(x\u2081)", "sin(x2)": "sin(x\u2082)",
};
const FEATURE_FN = {
  x1: (a) => a, x2: (a, b) => b, "x1^2": (a) => a * a, "x2^2": (a, b) => b * b,
  "x1*x2": (a, b) => a * b, "sin(x1)": (a) => Math.sin(a), "sin(x2)": (a, b) => Math.sin(b),
};
const N_COLOURS = 61; // weight colours are quantized so an unchanged edge is not touched

/** Geometry of one column with n nodes: spacing, node size and centres. */
function columnGeometry(n) {
  let step = STEP;
  let size = RECT;
  if (n * STEP > MAX_HEIGHT) {
    step = MAX_HEIGHT / n;
    size = Math.max(5, Math.min(RECT, Math.floor(step * 0.7)));
  }
  const ys = [];
  for (let i = 0; i < n; i++) ys.push(TOP + i * step + size / 2);
  return { step, size, ys, height: n * step };
}

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}

export class NetworkView {
  /**
   * root: the #network div; cb: {toggleFeature(name), addNeuron(i), removeNeuron(i),
   * setWeight(L, R, C, value), hoverNeuron(l, i) / hoverNeuron(null)}.
   */
  constructor(root, cb) {
    this.root = root;
    this.svg = root.querySelector("svg");
    this.tip = root.querySelector("#weight-tip");
    this.tipText = this.tip.querySelector(".tip-text");
    this.edit = root.querySelector("#weight-edit");
    this.cb = cb;
    this.net = null;
    this.weights = null;
    this.editing = null;
    this.hovered = null;
    this.neuronCanvases = [];
    this.links = [];
    this.shapeKey = "";
    this.lut = LUT;
    this.installEvents();
  }

  installEvents() {
    const linkOf = (t) => (t && t.dataset && t.dataset.layer !== undefined ? t : null);
    this.svg.addEventListener("mouseover", (ev) => {
      const t = ev.target;
      if (this.editing || !t || !t.dataset) return;
      if (t.dataset.bl !== undefined) {
        this.hovered = [+t.dataset.bl, +t.dataset.br, -1]; // a bias: col -1
      } else if (linkOf(t)) {
        this.hovered = [+t.dataset.layer, +t.dataset.row, +t.dataset.col];
      } else {
        return;
      }
      this.showTip(ev);
    });
    this.svg.addEventListener("mousemove", (ev) => {
      if (this.hovered && !this.editing) this.placeTip(ev);
    });
    this.svg.addEventListener("mouseout", (ev) => {
      const t = ev.target;
      if ((linkOf(t) || (t.dataset && t.dataset.bl !== undefined)) && !this.editing) {
        this.hovered = null;
        this.tip.hidden = true;
      }
    });
    this.svg.addEventListener("click", (ev) => {
      const t = linkOf(ev.target);
      if (!t) return;
      ev.stopPropagation();
      this.hovered = [+t.dataset.layer, +t.dataset.row, +t.dataset.col];
      this.startEdit(ev);
    });
    this.edit.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        const v = parseFloat(this.edit.value);
        if (this.editing && Number.isFinite(v)) {
          const [L, R, C] = this.editing;
          this.setLocalWeight(L, R, C, v);
          this.cb.setWeight(L, R, C, v);
        }
        this.stopEdit();
      } else if (ev.key === "Escape") {
        this.stopEdit();
      }
    });
    document.addEventListener("click", (ev) => {
      if (this.editing && !this.tip.contains(ev.target)) this.stopEdit();
    });
  }

  weightAt(L, R, C) {
    const w = this.weights;
    const v = w && w[L] && w[L][R] ? w[L][R][C] : undefined;
    return typeof v === "number" ? v : undefined;
  }

  tipLabel() {
    const [L, R, C] = this.hovered;
    if (C < 0) {
      const b = this.biases && this.biases[L] ? this.biases[L][R] : undefined;
      const v = typeof b === "number" ? b.toPrecision(3) : "–";
      return `Bias ${v}  (layer ${L}, neuron ${R})`;
    }
    const w = this.weightAt(L, R, C);
    const v = w === undefined ? "–" : w.toPrecision(3);
    return `Weight ${v}  (layer ${L}, to ${R}, from ${C})`;
  }

  placeTip(ev) {
    const box = this.root.getBoundingClientRect();
    let x = ev.clientX - box.left + 14;
    let y = ev.clientY - box.top - 10;
    if (!ev.clientX && !ev.clientY && ev.target && ev.target.getTotalLength) {
      // a synthetic event (keyboard, script): beside the middle of the edge instead
      const p = ev.target.getPointAtLength(ev.target.getTotalLength() / 2);
      x = p.x + 14;
      y = p.y - 10;
    }
    this.tip.style.left = `${Math.min(x, box.width - 190)}px`;
    this.tip.style.top = `${y}px`;
  }

  showTip(ev) {
    this.tipText.textContent = this.tipLabel();
    this.edit.hidden = true;
    this.tip.hidden = false;
    this.tip.classList.remove("editing");
    const bias = this.hovered && this.hovered[2] < 0;
    this.tip.querySelector(".tip-hint").textContent = bias ? "" : "click the line to edit it";
    this.placeTip(ev);
  }

  startEdit(ev) {
    this.editing = this.hovered;
    this.showTip(ev);
    this.tip.classList.add("editing");
    this.tip.querySelector(".tip-hint").textContent = "Enter applies, Esc cancels";
    const w = this.weightAt(...this.editing);
    this.edit.value = w === undefined ? "0" : String(+w.toPrecision(4));
    this.edit.hidden = false;
    this.edit.focus();
    this.edit.select();
  }

  stopEdit() {
    this.editing = null;
    this.hovered = null;
    this.edit.hidden = true;
    this.tip.hidden = true;
    this.tip.classList.remove("editing");
  }

  setLocalWeight(L, R, C, v) {
    if (this.weights && this.weights[L] && this.weights[L][R]) {
      this.weights[L][R][C] = v;
      this.updateLinks();
    }
  }

  setDiscrete(discrete) {
    this.lut = discrete ? LUT_DISCRETE : LUT;
  }

  /**
   * Build the diagram after a "network" message.
   * net: {layers, features (active), inputMaps, grid}; all: every feature name;
   * domain: [lo, hi] of the inputs.
   */
  build(net, all, domain) {
    this.classes = net.classes || null;
    this.net = net;
    this.all = all;
    this.domain = domain || [-6, 6];
    this.stopEdit();
    const root = this.root;
    root.querySelectorAll(".node-div, .plus-minus").forEach((e) => e.remove());
    this.svg.textContent = "";
    const W = Math.max(420, root.clientWidth);
    const hidden = net.layers.slice(1, -1);
    const nOut = net.layers[net.layers.length - 1] || 1;
    const xIn = 92;
    const xOut = W - 24;
    const xs = [xIn];
    hidden.forEach((_, i) => xs.push(xIn + ((i + 1) * (xOut - xIn)) / (hidden.length + 1)));
    xs.push(xOut);
    this.xs = xs;
    this.gHover = svgEl("g", { class: "hovers" }, this.svg);
    this.gLinks = svgEl("g", { class: "links" }, this.svg);
    this.gNodes = svgEl("g", { class: "nodes" }, this.svg);

    // inputs: every feature is drawn; inactive ones are faded and click to turn on
    const active = net.features || [];
    const inGeo = columnGeometry(all.length);
    const inputMaps = net.inputMaps || [];
    this.inputY = [];
    all.forEach((name, i) => {
      const cy = inGeo.ys[i];
      const on = active.includes(name);
      if (on) this.inputY.push(cy);
      const div = this.nodeDiv(xIn, cy, inGeo.size, on ? "input active" : "input inactive");
      div.dataset.feature = name;
      div.title = on ? `${name}: click to remove this input` : `${name}: click to feed it in`;
      // only the inputs fed in are canvas.input-map (the benchmark counts them)
      const canvas = el("canvas", on ? "input-map" : "feature-map", div);
      const j = active.indexOf(name);
      const bytes = j >= 0 && inputMaps[j] ? decodeB64(inputMaps[j]) : null;
      const g = bytes ? Math.round(Math.sqrt(bytes.length)) : 20;
      canvas.width = canvas.height = g;
      paintMap(canvas, bytes || this.featureMap(name, g), LUT);
      div.addEventListener("click", () => this.cb.toggleFeature(name));
      div.tabIndex = 0;
      div.setAttribute("role", "button");
      div.setAttribute("aria-pressed", String(on));
      div.setAttribute("aria-label", `input ${name}`);
      div.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          this.cb.toggleFeature(name);
        }
      });
      const t = svgEl("text", { x: xIn - inGeo.size / 2 - 8, y: cy, "text-anchor": "end",
        class: on ? "main-label" : "main-label inactive" }, this.gNodes);
      t.textContent = LABELS[name] || name;
    });

    // hidden neurons: small canvases g x g, scaled by CSS
    const g = this.g || 20;
    this.neuronCanvases = [];
    this.biasRects = [];
    this.colY = [this.inputY];
    let maxHeight = inGeo.height;
    hidden.forEach((n, l) => {
      const geo = columnGeometry(n);
      maxHeight = Math.max(maxHeight, geo.height);
      this.colY.push(geo.ys);
      const row = [];
      geo.ys.forEach((cy, i) => {
        const div = this.nodeDiv(xs[l + 1], cy, geo.size,
          geo.size < 14 ? "hidden-node tiny" : "hidden-node");
        div.title = `layer ${l + 1}, neuron ${i + 1}`;
        const c = el("canvas", "neuron-map", div);
        c.width = c.height = g;
        c.dataset.l = l;
        c.dataset.i = i;
        div.addEventListener("mouseenter", () => this.cb.hoverNeuron(l, i));
        div.addEventListener("mouseleave", () => this.cb.hoverNeuron(null));
        row.push(c);
      });
      this.neuronCanvases.push(row);
      geo.ys.forEach((cy, i) => this.biasRect(l, i, xs[l + 1], cy, geo.size));
      this.plusMinus(l, xs[l + 1], n);
    });
    this.sizes = [inGeo.size, ...hidden.map((n) => columnGeometry(n).size)];
    this.buildOutput(nOut);
    this.height = TOP + maxHeight + 8;
    this.svg.setAttribute("width", W);
    this.svg.setAttribute("height", this.height);
    root.style.height = `${this.height}px`;
    const shapes = [];
    const sizes = [active.length, ...hidden, nOut];
    for (let L = 0; L + 1 < sizes.length; L++) shapes.push([sizes[L + 1], sizes[L]]);
    this.buildLinks(shapes);
  }

  buildOutput(nOut) {
    const geo = columnGeometry(nOut);
    this.outSize = Math.min(geo.size, 22);
    this.colYOut = geo.ys;
    this.gOut = svgEl("g", { class: "outputs" }, this.gNodes);
    geo.ys.forEach((cy, i) => {
      const s = this.outSize;
      svgEl("rect", { x: this.xs[this.xs.length - 1] - s / 2, y: cy - s / 2, width: s, height: s,
        class: "out-node" }, this.gOut);
      this.biasRect(this.xs.length - 2, i, this.xs[this.xs.length - 1], cy, s, this.gOut);
      if (i === 0 || nOut === 2) {
        const t = svgEl("text", { x: this.xs[this.xs.length - 1], y: cy + s / 2 + 10,
          "text-anchor": "middle", class: "small-label" }, this.gOut);
        const name = this.classes && this.classes[i] != null ? this.classes[i] : `class ${i}`;
        t.textContent = nOut === 2 ? name : "output";
      }
    });
  }

  /** TF's small bias square at a node's lower left (not drawn on tiny nodes). */
  biasRect(L, r, cx, cy, size, parent = this.gNodes) {
    if (size < 12) return;
    const b = Math.max(4, Math.round(size / 6));
    const rect = svgEl("rect", { x: cx - size / 2 - b - 2, y: cy + size / 2 - b + 3, width: b,
      height: b, class: "bias", "data-bl": L, "data-br": r }, parent);
    this.biasRects.push({ rect, L, r, ci: -1 });
  }

  /** The value map of an input feature over the domain, normalized to [-1, 1], as uint8. */
  featureMap(name, g) {
    const [lo, hi] = this.domain;
    const f = FEATURE_FN[name] || (() => 0);
    const vals = new Float64Array(g * g);
    let m = 1e-12;
    for (let r = 0; r < g; r++) {
      const b = hi - ((r + 0.5) / g) * (hi - lo);
      for (let c = 0; c < g; c++) {
        const a = lo + ((c + 0.5) / g) * (hi - lo);
        const v = f(a, b);
        vals[r * g + c] = v;
        m = Math.max(m, Math.abs(v));
      }
    }
    const out = new Uint8Array(g * g);
    for (let k = 0; k < vals.length; k++) out[k] = Math.round(((vals[k] / m + 1) / 2) * 255);
    return out;
  }

  nodeDiv(cx, cy, size, cls) {
    const div = el("div", `node-div ${cls}`, this.root);
    div.style.left = `${cx - size / 2}px`;
    div.style.top = `${cy - size / 2}px`;
    div.style.width = div.style.height = `${size}px`;
    return div;
  }

  plusMinus(l, cx, n) {
    const gap = this.xs.length > 2 ? this.xs[1] - this.xs[0] : 200;
    const div = el("div", gap < 84 ? "plus-minus compact" : "plus-minus", this.root);
    div.dataset.layer = l;
    div.style.left = `${cx - 40}px`;
    const add = el("button", "icon-button small add-neuron", div);
    add.textContent = "+";
    add.title = "Add a neuron";
    add.addEventListener("click", () => this.cb.addNeuron(l));
    const rm = el("button", "icon-button small remove-neuron", div);
    rm.textContent = "\u2212";
    rm.title = "Remove a neuron";
    rm.addEventListener("click", () => this.cb.removeNeuron(l));
    const count = el("div", "count", div);
    count.textContent = gap < 84 ? String(n) : `${n} neuron${n === 1 ? "" : "s"}`;
    count.title = `${n} neuron${n === 1 ? "" : "s"}`;
  }

  /** Build every edge for weight shapes [[out, in] per Linear layer]. */
  buildLinks(shapes) {
    this.gHover.textContent = "";
    this.gLinks.textContent = "";
    this.shapeKey = shapes.map((s) => s.join("x")).join(",");
    const links = [];
    const total = shapes.reduce((a, [o, i]) => a + o * i, 0);
    const withHover = total <= 3000;
    const cols = [...this.colY, this.colYOut];
    const nCols = cols.length;
    shapes.forEach(([rows, ins], L) => {
      if (L + 1 >= nCols) return;
      const srcY = cols[L];
      const dstY = cols[L + 1];
      const srcHalf = (this.sizes[L] || RECT) / 2;
      const dstHalf = L + 1 < this.sizes.length ? this.sizes[L + 1] / 2 : this.outSize / 2;
      const x0 = this.xs[L] + srcHalf + 2;
      const x1 = this.xs[L + 1] - dstHalf;
      const xm = (x0 + x1) / 2;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < ins; c++) {
          const y0 = srcY[c];
          const base = dstY[Math.min(r, dstY.length - 1)];
          if (y0 === undefined || base === undefined) continue;
          const y1 = base + ((c - (ins - 1) / 2) / Math.max(ins, 1)) * Math.min(12, dstHalf);
          const d = `M${x0},${y0}C${xm},${y0} ${xm},${y1} ${x1},${y1}`;
          const attrs = { d, "data-layer": L, "data-row": r, "data-col": c };
          if (withHover) svgEl("path", { ...attrs, class: "link-hover" }, this.gHover);
          const p = svgEl("path", { ...attrs, class: "link" }, this.gLinks);
          links.push({ p, L, r, c, ci: -1, wi: -1 });
        }
      }
    });
    this.links = links;
    this.updateLinks();
  }

  /** Recolour the edges from this.weights (only those whose look changed). */
  updateLinks() {
    const w = this.weights;
    for (const k of this.links) {
      const v = (w && w[k.L] && w[k.L][k.r] && w[k.L][k.r][k.c]) || 0; // null: not finite
      const ci = Math.round(((Math.max(-1, Math.min(1, v)) + 1) / 2) * (N_COLOURS - 1));
      const wi = Math.round(Math.min(10, 1 + (Math.abs(v) / 5) * 9) * 2);
      if (ci !== k.ci) {
        k.ci = ci;
        const [r, g, b] = rgbOf((ci / (N_COLOURS - 1)) * 2 - 1);
        k.p.style.stroke = `rgb(${r},${g},${b})`;
      }
      if (wi !== k.wi) {
        k.wi = wi;
        k.p.style.strokeWidth = String(wi / 2);
      }
    }
  }

  /** Apply a frame: weights (edges), neuron maps. A big network (thousands of edges, hundreds
   * of neurons) is redrawn at most every few hundred ms so the page stays responsive. */
  update(frame, force = false) {
    if (!this.net) return;
    if (frame.g && frame.g !== this.g) {
      this.g = frame.g;
      for (const row of this.neuronCanvases) for (const c of row) c.width = c.height = frame.g;
    }
    const now = performance.now();
    const nNeurons = this.neuronCanvases.reduce((a, r) => a + r.length, 0);
    const every = Math.min(1000, Math.max(this.links.length / 20, nNeurons * 1.5) - 60);
    if (!force && every > 0 && now - (this.lastFull || 0) < every) {
      if (frame.weights) this.weights = frame.weights;
      return;
    }
    this.lastFull = now;
    if (frame.biases) {
      this.biases = frame.biases;
      for (const k of this.biasRects) {
        const v = (frame.biases[k.L] && frame.biases[k.L][k.r]) || 0;
        const ci = Math.round(((Math.max(-1, Math.min(1, v)) + 1) / 2) * (N_COLOURS - 1));
        if (ci !== k.ci) {
          k.ci = ci;
          const [r, g, b] = rgbOf((ci / (N_COLOURS - 1)) * 2 - 1);
          k.rect.style.fill = `rgb(${r},${g},${b})`;
        }
      }
    }
    if (frame.weights) {
      this.weights = frame.weights;
      const key = frame.weights.map((m) => `${m.length}x${m[0] ? m[0].length : 0}`).join(",");
      if (key !== this.shapeKey) {
        const outRows = frame.weights[frame.weights.length - 1].length;
        if (outRows !== this.colYOut.length) {
          this.biasRects = this.biasRects.filter((k) => k.rect.parentNode !== this.gOut);
          this.gOut.remove();
          this.buildOutput(outRows);
        }
        this.buildLinks(frame.weights.map((m) => [m.length, m[0] ? m[0].length : 0]));
      } else {
        this.updateLinks();
      }
      if (this.hovered && !this.tip.hidden && !this.editing) {
        this.tipText.textContent = this.tipLabel();
      }
    }
    const neurons = frame.neurons || [];
    for (let l = 0; l < this.neuronCanvases.length; l++) {
      const row = this.neuronCanvases[l];
      const maps = neurons[l] || [];
      for (let i = 0; i < row.length; i++) {
        if (maps[i]) paintMap(row[i], decodeB64(maps[i]), this.lut);
      }
    }
  }
}

