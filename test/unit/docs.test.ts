// The documentation's links, checked offline: every relative link in README.md, docs/ and the
// chart's README names a file that exists, and every #anchor a heading that GitHub renders
// with that id. Links to other sites are not fetched. And the README stays a landing page.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const README_MAX_LINES = 250;

function markdownUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return markdownUnder(rel);
    return e.name.endsWith(".md") ? [rel] : [];
  });
}

const pages = ["README.md", "charts/reseed/README.md", ...markdownUnder("docs")];

/** The text outside fenced code blocks and inline code spans, line by line (numbers kept). */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, "");
  });
}

/** GitHub's heading ids: the rendered text, lower-cased, punctuation dropped, spaces to dashes; repeats get -1, -2, … */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const rendered = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*_]/g, (c) => (c === "_" ? "_" : ""));
    const slug = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n ? `${slug}-${n}` : slug);
  }
  return anchors;
}

interface Link {
  page: string;
  line: number;
  target: string;
}

function linksOf(page: string): Link[] {
  const lines = proseLines(readFileSync(path.join(root, page), "utf8"));
  return lines.flatMap((line, i) =>
    [...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({ page, line: i + 1, target: m[1]! })),
  );
}

/** What is wrong with a link, or undefined when it resolves. */
function brokenReason(link: Link): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined; // another site: not fetched
  const [file, anchor] = link.target.split("#", 2) as [string, string | undefined];
  const resolved = file
    ? path.resolve(path.dirname(path.join(root, link.page)), decodeURIComponent(file))
    : path.join(root, link.page);
  if (!resolved.startsWith(root + path.sep) && resolved !== root) return "points outside the repository";
  if (!existsSync(resolved)) return `${path.relative(root, resolved)} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith(".md")) return `#${anchor} on a file that is not Markdown`;
  if (!anchorsOf(readFileSync(resolved, "utf8")).has(anchor))
    return `${path.relative(root, resolved)} has no heading #${anchor}`;
  return undefined;
}

describe("documentation links", () => {
  it("finds the pages and links it checks", () => {
    expect(pages).toEqual(expect.arrayContaining(["README.md", "charts/reseed/README.md", "docs/redaction.md"]));
    expect(pages.flatMap(linksOf).length).toBeGreaterThan(50);
  });

  it.each(pages)("every relative link and anchor in %s resolves", (page) => {
    const broken = linksOf(page).flatMap((l) => {
      const why = brokenReason(l);
      return why ? [`${l.page}:${l.line}: (${l.target}) ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it("computes heading ids as GitHub does", () => {
    const ids = anchorsOf(
      "# End to end in real Argo (`make e2e`)\n## Hook units (P2)\n## Hook units (P2)\n```\n# not a heading\n```\n## C1–C5, P1_P4: [a link](x.md)",
    );
    expect([...ids]).toEqual([
      "end-to-end-in-real-argo-make-e2e",
      "hook-units-p2",
      "hook-units-p2-1",
      "c1c5-p1_p4-a-link",
    ]);
  });

  it("reports a missing file and a missing heading", () => {
    expect(brokenReason({ page: "README.md", line: 1, target: "docs/no-such-page.md" })).toBe(
      "docs/no-such-page.md does not exist",
    );
    expect(brokenReason({ page: "README.md", line: 1, target: "docs/operating.md#no-such-heading" })).toBe(
      "docs/operating.md has no heading #no-such-heading",
    );
    expect(brokenReason({ page: "docs/operating.md", line: 1, target: "#exit-codes" })).toBeUndefined();
  });
});

describe("the README", () => {
  it(`is a landing page of at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(path.join(root, "README.md"), "utf8").trimEnd().split("\n").length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });
});
