// Self-contained HTML reports: headings, paragraphs, tables, inline SVG charts and PNG images
// (base64), as one string (io/files.ts writes it). No scripts, no external resources.

export type Block =
  | { kind: "h2" | "h3" | "p"; text: string }
  | { kind: "table"; head: string[]; rows: (string | number)[][]; caption?: string }
  | { kind: "svg"; svg: string; caption?: string }
  | { kind: "png"; data: Uint8Array; caption?: string; width?: number }
  | { kind: "pre"; text: string };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function render(b: Block): string {
  switch (b.kind) {
    case "h2":
    case "h3":
    case "p":
      return `<${b.kind}>${escapeHtml(b.text)}</${b.kind}>`;
    case "pre":
      return `<pre>${escapeHtml(b.text)}</pre>`;
    case "table": {
      const head = b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
      const rows = b.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join("")}</tr>`).join("\n");
      return `<table>${b.caption ? `<caption>${escapeHtml(b.caption)}</caption>` : ""}<thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
    }
    case "svg":
      return `<figure>${b.svg}${b.caption ? `<figcaption>${escapeHtml(b.caption)}</figcaption>` : ""}</figure>`;
    case "png": {
      const src = `data:image/png;base64,${Buffer.from(b.data).toString("base64")}`;
      return `<figure><img src="${src}" ${b.width ? `width="${b.width}"` : ""} style="image-rendering: pixelated" alt="${escapeHtml(b.caption ?? "")}">${b.caption ? `<figcaption>${escapeHtml(b.caption)}</figcaption>` : ""}</figure>`;
    }
  }
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f4f4f4}caption{caption-side:bottom;font-size:.9em;color:#555}figure{display:inline-block;margin:1em}
figcaption{font-size:.9em;color:#555;max-width:420px}pre{background:#f8f8f8;padding:.6em;overflow-x:auto}`;

/** The full HTML document. */
export function htmlDocument(title: string, blocks: readonly Block[]): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body><h1>${escapeHtml(title)}</h1>\n${blocks.map(render).join("\n")}\n</body></html>\n`;
}
