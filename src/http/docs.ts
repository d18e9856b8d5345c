/**
 * The `/docs` page: the OpenAPI document rendered on the server as one self-contained HTML page
 * (no script, no asset, nothing fetched), so it works offline and behind the same bearer token
 * as the rest of the API. Every text from the document is HTML-escaped.
 * @module
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function schemaBlock(schema: unknown): string {
  return `<pre>${escapeHtml(JSON.stringify(schema as Json, null, 2))}</pre>`;
}

function parameters(op: Record<string, unknown>): string {
  const params = Array.isArray(op.parameters) ? op.parameters.filter(isObject) : [];
  if (params.length === 0) return '';
  const rows = params
    .map((p) => {
      const schema = isObject(p.schema) ? p.schema : {};
      const type =
        str(schema.type) + (Array.isArray(schema.enum) ? ` (${schema.enum.map(String).join(' | ')})` : '');
      const desc = str(p.description) || str(schema.description);
      return `<tr><td><code>${escapeHtml(str(p.name))}</code></td><td>${escapeHtml(str(p.in))}</td><td>${p.required === true ? 'yes' : ''}</td><td>${escapeHtml(type)}</td><td>${escapeHtml(desc)}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th><th>description</th></tr>${rows}</table>`;
}

function contentSchemas(content: unknown): string {
  if (!isObject(content)) return '';
  return Object.entries(content)
    .map(
      ([type, media]) =>
        `<div class="ct">${escapeHtml(type)}</div>${schemaBlock(isObject(media) ? media.schema : undefined)}`,
    )
    .join('');
}

function operation(path: string, method: string, op: Record<string, unknown>): string {
  const body = isObject(op.requestBody)
    ? `<h4>Request body</h4>${contentSchemas(op.requestBody.content)}`
    : '';
  const responses = isObject(op.responses)
    ? Object.entries(op.responses)
        .map(([code, r]) => {
          const rr = isObject(r) ? r : {};
          const head = `${escapeHtml(code)} ${escapeHtml(str(rr.description))}`;
          // Every error answer has the same problem shape, shown once at the top of the page.
          if (/^[45]/.test(code)) return `<div>${head}: <a href="#problems">problem+json</a></div>`;
          return `<details><summary>${head}</summary>${contentSchemas(rr.content)}</details>`;
        })
        .join('')
    : '';
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  return `<section id="${escapeHtml(id)}"><h3><span class="m ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3><p>${escapeHtml(str(op.summary))}</p>${parameters(op)}${body}<h4>Responses</h4>${responses}</section>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f5;padding:.5rem;overflow:auto;max-height:24rem}
section{border-top:1px solid #ddd;padding:.5rem 0}h3{margin:.5rem 0}.m{display:inline-block;min-width:4rem;color:#fff;border-radius:3px;padding:0 .4rem;font-size:13px;text-align:center}
.get{background:#2b6cb0}.post{background:#2f855a}.put{background:#b7791f}.delete{background:#c53030}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}.ct{color:#666;font-size:13px}`;

const PROBLEMS = `<section id="problems"><h3>Errors</h3><p>Every error is <code>application/problem+json</code>: <code>{ type, title, status, code, detail, field? }</code>. <code>code</code> is stable (such as <code>RETRACED_ERR_VALIDATION</code>, <code>RETRACED_ERR_JOB_NOT_FOUND</code>, <code>RETRACED_ERR_INVALID_STATE</code>, <code>RETRACED_ERR_UNAUTHORIZED</code>); <code>field</code> names the offending input, such as <code>body.options.delay</code> or <code>querystring.limit</code>.</p></section>`;

/** The whole page for an OpenAPI document (as returned by `app.swagger()`). */
export function renderDocs(spec: unknown): string {
  const doc = isObject(spec) ? spec : {};
  const info = isObject(doc.info) ? doc.info : {};
  const paths = isObject(doc.paths) ? doc.paths : {};
  const ops: string[] = [];
  const index: string[] = [];
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op)) continue;
      const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
      index.push(
        `<li><a href="#${escapeHtml(id)}"><code>${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</code></a> ${escapeHtml(str(op.summary))}</li>`,
      );
      ops.push(operation(path, method, op));
    }
  }
  const title = `${str(info.title)} ${str(info.version)}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(str(info.description))}</p><p>The machine-readable document is at <a href="openapi.json"><code>/openapi.json</code></a>. Send <code>Authorization: Bearer &lt;token&gt;</code> when the server has a token.</p><ul>${index.join('')}</ul>${PROBLEMS}${ops.join('')}</body></html>`;
}
