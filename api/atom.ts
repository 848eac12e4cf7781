// Atom (RFC 4287) of a program's notices, for feed readers and the offices' own sites (R-PUB-1): one
// entry per public notice with its 文号, kind, HTML and PDF. Ids are stable (the notice's id and the
// SHA-256 of its HTML never change: an issued notice is never edited, a correction is a new entry).
import type { publicNoticeFeed } from '../app/disclosure';

const esc = (v: string) =>
  v.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

/** Links are relative to the feed's own address (RFC 4287 §2.4: resolved against the document's URI):
 * no Host header a client sends ends up in a cached answer. */
export function atomFeed(f: Awaited<ReturnType<typeof publicNoticeFeed>>, base = ''): string {
  const page = `${base}/gongkai/${f.code}`;
  const updated = f.items[0]?.issuedAt ?? f.createdAt;
  const entries = f.items.map(
    (n) => `  <entry>
    <id>urn:shifan:notice:${n.id}:${n.sha256}</id>
    <title>${esc(`${n.docNumber} ${n.title}`)}</title>
    <updated>${n.issuedAt}</updated>
    <published>${n.issuedAt}</published>
    <category term="${esc(n.kind)}" label="${esc(n.kindName)}"/>
    <link rel="alternate" type="text/html" href="${esc(base + n.html)}"/>${
      n.pdf
        ? `\n    <link rel="enclosure" type="application/pdf" href="${esc(base + n.pdf)}"/>`
        : ''
    }
    <summary>${esc(`${n.kindName}（${n.docNumber}）`)}</summary>
  </entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN">
  <id>urn:shifan:program:${esc(f.code)}:notices</id>
  <title>${esc(`${f.name} 通知公告`)}</title>
  <subtitle>综合示范工作专栏</subtitle>
  <updated>${updated}</updated>
  <author><name>${esc(f.issuer)}</name></author>
  <link rel="self" type="application/atom+xml" href="${esc(`${base}/api/public/programs/${f.code}/notices.atom`)}"/>
  <link rel="alternate" type="text/html" href="${esc(page)}"/>
${entries.join('\n')}
</feed>
`;
}
