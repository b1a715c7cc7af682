// Package assets serves a web application's static files under
// content-hashed names ("app.3f2a9c1e0b4d.js"), so browsers and CDNs may
// cache them for a year and a deploy never needs a purge.
//
// Stage of growth: "cache and CDN" (stage 4). Static assets move to the
// edge: each URL names one immutable content, cacheable forever by every
// browser and shared cache (cache/edge, a CDN), and a new build simply
// hands out new URLs.
//
// [New] walks an fs.FS (an embed.FS, os.DirFS) once, hashes each file
// (SHA-256; the first 12 hex characters go in the name, see
// [DefaultDigestLength]) and builds a [Manifest]: logical name → hashed
// name, strong ETag, subresource integrity (sha384), size, content type,
// precompressed variants. Templates link through [Assets.FuncMap]:
//
//	<script src="{{asset "js/app.js"}}" integrity="{{integrity "js/app.js"}}"></script>
//
// and an unknown name fails the template, never renders a broken link.
//
// [Assets.ServeHTTP] answers hashed names with "Cache-Control: public,
// max-age=31536000, immutable" (RFC 8246) and logical names with
// "no-cache" plus a strong ETag (their only validator: no Last-Modified,
// which builds do not move forward reliably); 304 on If-None-Match and,
// for hashed names, If-Modified-Since; ranges and the other
// preconditions through http.ServeContent; "app.js.br" and "app.js.gz" beside "app.js" are sent
// by Accept-Encoding q-values (br first on a tie) with Vary and
// Content-Encoding. A .gz that does not decompress to its file fails New.
// A .br cannot be checked (the standard library has no brotli decoder):
// a stale one would give browsers, which all prefer br, another script
// than the integrity value names, which they then refuse. Write it in the
// same build step as its file.
//
// # Rolling deploys
//
// While old and new instances run side by side, a page rendered by the
// old build asks a new instance for the old hashes. Pass the previous
// build as [Options.Previous] (its manifest, written by [WriteManifest] at
// build time, and its files): its hashed names keep being served with
// their own bytes, never the new bytes under an old name, which an
// immutable cache would keep for a year. A recipe with embed.FS: the
// release step copies the last release's static/ and manifest.json into
// previous/ before `go build`, and the program embeds both and passes
// Build{Manifest: &m, FS: previousFS}. Unchanged files cost no memory
// twice; keep one or two builds, as Propshaft and phx.digest keep theirs.
// The other direction (a new page reaching an old instance) gets a 404
// marked no-store, so no cache pins it and a retry reaches a new instance.
//
// # Limits
//
// Relative references inside a file (url(../img/logo.png) in CSS, a
// sourceMappingURL) resolve to logical names, which are served with
// no-cache and revalidate: correct, but not immutable. Link hot assets
// from templates. CORS headers (fonts from a CDN host) are middleware's
// job.
//
// # Safety
//
// Only names in the manifest are ever served, from bytes read at New: a
// request path is looked up, never joined to a directory or opened, so
// "..", encoded traversal ("%2e%2e", "%2f"), backslashes, NUL or absolute
// paths cannot reach outside the FS by construction. Dotfiles and
// symlinks are not assets. Every response carries
// X-Content-Type-Options: nosniff; files without an extension get a
// sniffed Content-Type at New.
//
// # Telemetry
//
// Metrics (scope github.com/ladder-go/ladder/cache/assets):
// ladder.assets.requests by ladder.assets.result (hashed, logical,
// not_modified, not_found, method_not_allowed, precondition_failed,
// range_not_satisfiable) and ladder.assets.sent (asset body bytes). Both
// are observable counters over atomics, so the request path makes no SDK
// call.
package assets
