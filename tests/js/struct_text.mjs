// Print, per page, the text a structure-aware reader gets from a PDF, as Mozilla pdf.js sees it.
//
//   node struct_text.mjs FILE.pdf   ->   JSON list, one entry per page:
//   { page, structure, artifacts, unreached, untagged, mcids }
//
// structure: the text of the marked content that page.getStructTree() reaches, in tree order;
// artifacts: text inside /Artifact marked content; unreached: text in marked content with an
// MCID that the structure tree does not reach; untagged: text in no marked content at all;
// mcids: the text of each marked-content sequence by pdf.js's id for it ("p12R_mc3").
import { readFile } from "node:fs/promises";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node struct_text.mjs FILE.pdf");
  process.exit(2);
}
const data = new Uint8Array(await readFile(file));
const pdf = await getDocument({ data, isEvalSupported: false, disableFontFace: true, verbosity: 0 }).promise;
const pages = [];
for (let n = 1; n <= pdf.numPages; n++) {
  const page = await pdf.getPage(n);
  const content = await page.getTextContent({ includeMarkedContent: true });
  const byId = new Map();
  const artifacts = [];
  const untagged = [];
  const open = [];
  for (const item of content.items) {
    if (item.type === "beginMarkedContent" || item.type === "beginMarkedContentProps") {
      open.push(item);
    } else if (item.type === "endMarkedContent") {
      open.pop();
    } else {
      const text = item.str + (item.hasEOL ? "\n" : "");
      const owner = [...open].reverse().find((m) => m.id);
      if (open.some((m) => m.tag === "Artifact")) artifacts.push(text);
      else if (owner) byId.set(owner.id, (byId.get(owner.id) ?? "") + text);
      else untagged.push(text);
    }
  }
  const reached = [];
  const seen = new Set();
  const walk = (node) => {
    if (!node) return;
    if (node.type === "content") {
      seen.add(node.id);
      reached.push(byId.get(node.id) ?? "");
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(await page.getStructTree());
  const unreached = [...byId].filter(([id]) => !seen.has(id)).map(([, text]) => text);
  pages.push({
    page: n,
    structure: reached.join(" "),
    artifacts: artifacts.join(" "),
    unreached: unreached.join(" "),
    untagged: untagged.join(" "),
    mcids: Object.fromEntries(byId),
  });
}
console.log(JSON.stringify(pages));
