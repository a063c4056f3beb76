// Small line charts as inline SVG: no chart library, nothing fetched, nothing the CSP has to allow.
const NS = "http://www.w3.org/2000/svg";
const W = 600, H = 120, PAD = 4;

export interface Series { label: string; color: string; values: number[] }

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/**
 * A chart in a figure: the lines, the scale's top as text, a legend with each series' latest value, and a
 * description for screen readers. {@code max} fixes the scale (e.g. 100 for percentages); else it follows the data.
 */
export class LineChart {
  readonly node: HTMLElement;
  private readonly plot: SVGSVGElement;
  private readonly desc: SVGDescElement;
  private readonly top: HTMLElement;
  private readonly legend: HTMLElement;

  /** @param floor the least top of a scale that follows the data, so an idle series does not read as a full one */
  constructor(id: string, readonly title: string, private readonly format: (v: number) => string, private readonly max?: number,
    private readonly floor = 1) {
    this.node = document.createElement("figure");
    this.node.className = "chart";
    this.node.id = id;
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    this.top = document.createElement("span");
    this.top.className = "chart-top";
    caption.append(" ", this.top);
    this.plot = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": title });
    this.desc = svg("desc", {});
    this.plot.append(this.desc);
    this.legend = document.createElement("p");
    this.legend.className = "legend";
    this.legend.textContent = "Waiting for samples…";
    this.node.append(caption, this.plot, this.legend);
  }

  draw(series: Series[]) {
    const n = Math.max(0, ...series.map((s) => s.values.length));
    const peak = this.max ?? Math.max(this.floor, ...series.flatMap((s) => s.values));
    this.top.textContent = `(scale 0–${this.format(peak)})`;
    const lines = series.map((s) => {
      const pts = s.values.map((v, i) => {
        const x = n <= 1 ? W : (i / (n - 1)) * W;
        const y = H - PAD - (Math.min(peak, Math.max(0, v)) / peak) * (H - 2 * PAD);
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      });
      return svg("polyline", { points: pts.join(" "), fill: "none", stroke: s.color, "stroke-width": 2, "vector-effect": "non-scaling-stroke" });
    });
    const grid = [0.25, 0.5, 0.75].map((f) => svg("line", { x1: 0, x2: W, y1: H * f, y2: H * f, stroke: "#e5e9ed", "stroke-width": 1, "vector-effect": "non-scaling-stroke" }));
    const latest = series.map((s) => `${s.label} ${s.values.length ? this.format(s.values[s.values.length - 1]) : "–"}`);
    this.desc.textContent = `${this.title}, ${n} samples; latest: ${latest.join(", ")}`;
    this.plot.replaceChildren(this.desc, ...grid, ...lines);
    this.legend.replaceChildren(...series.map((s, i) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = s.color;
      item.append(swatch, latest[i]);
      return item;
    }));
  }
}

export const bytes = (b: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = b, u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
};
