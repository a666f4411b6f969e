/* html.c - the HTML report's page (see html.h): formatting only.
 *
 * The page is the data (one JSON object in a <script type="application/json">
 * element, every string through ps_json_str), the page's script and style,
 * and the map's libraries and atlas when they were embedded. Nothing is
 * fetched when it is opened: no network, no server. */
#include <stdio.h>
#include <string.h>

#include "popseg/html.h"
#include "popseg/json.h"
#include "popseg/report.h"

/* Text for HTML element content and attribute values. */
static void html_esc(ps_sb_t *b, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '<':
      ps_sb_puts(b, "&lt;");
      break;
    case '>':
      ps_sb_puts(b, "&gt;");
      break;
    case '&':
      ps_sb_puts(b, "&amp;");
      break;
    case '"':
      ps_sb_puts(b, "&quot;");
      break;
    default:
      ps_sb_put(b, s, 1);
    }
  }
}

/* Fields of a JSON object: "name":value, then a comma (every object here
 * ends with a field written by hand). A NULL array is null. */
static void key(ps_sb_t *b, const char *k) {
  ps_json_str(b, k);
  ps_sb_put(b, ":", 1);
}
static void str_field(ps_sb_t *b, const char *name, const char *v) {
  key(b, name);
  ps_json_str(b, v);
  ps_sb_put(b, ",", 1);
}
static void int_field(ps_sb_t *b, const char *name, int64_t v) {
  key(b, name);
  ps_sb_printf(b, "%lld,", (long long)v);
}
static void num_field(ps_sb_t *b, const char *name, const double *v) {
  key(b, name);
  if (v)
    ps_json_num(b, *v);
  else
    ps_sb_puts(b, "null");
  ps_sb_put(b, ",", 1);
}
static void f64s_field(ps_sb_t *b, const char *name, const double *a, int64_t n, int digits) {
  key(b, name);
  if (a)
    ps_json_f64s(b, a, n, digits);
  else
    ps_sb_puts(b, "null");
  ps_sb_put(b, ",", 1);
}
/* A column of a row-major [n][cols] matrix. */
static void col_field(ps_sb_t *b, const char *name, const double *a, int64_t n, int64_t cols,
                      int64_t c, int digits) {
  key(b, name);
  ps_sb_put(b, "[", 1);
  for (int64_t i = 0; i < n; i++) {
    if (i) ps_sb_put(b, ",", 1);
    ps_json_numd(b, a[i * cols + c], digits);
  }
  ps_sb_puts(b, "],");
}
static void f64m_field(ps_sb_t *b, const char *name, const double *a, int64_t rows, int64_t cols,
                       int digits) {
  key(b, name);
  if (a)
    ps_json_f64m(b, a, rows, cols, digits);
  else
    ps_sb_puts(b, "null");
  ps_sb_put(b, ",", 1);
}
static void i32s_field(ps_sb_t *b, const char *name, const int32_t *a, int64_t n) {
  key(b, name);
  if (a)
    ps_json_i32s(b, a, n);
  else
    ps_sb_puts(b, "null");
  ps_sb_put(b, ",", 1);
}
static void i64s_field(ps_sb_t *b, const char *name, const int64_t *a, int64_t n) {
  key(b, name);
  if (a)
    ps_json_i64s(b, a, n);
  else
    ps_sb_puts(b, "null");
  ps_sb_put(b, ",", 1);
}
static void strs_field(ps_sb_t *b, const char *name, const char *block, int64_t n, size_t width) {
  key(b, name);
  ps_json_strs(b, block, n, width);
  ps_sb_put(b, ",", 1);
}

static const char *str_at(const char *block, size_t width, int64_t i) {
  return block + (size_t)i * width;
}

static void segments_json(ps_sb_t *b, const ps_html_t *h) {
  ps_sb_puts(b, "[");
  for (int64_t c = 0; c < h->k; c++) {
    ps_sb_t name = {0}, highs = {0}, lows = {0};
    if (h->index)
      ps_portrait(h->index + c * h->d, h->d, h->fnames, h->fwidth, 5, &highs, &lows, &name);
    else
      ps_sb_printf(&name, "Segment %lld", (long long)c);
    ps_sb_puts(b, c ? ",{" : "{");
    str_field(b, "name", ps_sb_str(&name));
    str_field(b, "highs", h->index ? ps_sb_str(&highs) : NULL);
    str_field(b, "lows", h->index ? ps_sb_str(&lows) : NULL);
    int_field(b, "size", h->sizes[c]);
    num_field(b, "weight", h->weight_sizes ? &h->weight_sizes[c] : NULL);
    key(b, "examples");
    ps_sb_puts(b, "[");
    int said = 0;
    for (int64_t e = 0; e < h->n_examples; e++) {
      const char *s = str_at(h->example_names, h->ex_width, c * h->n_examples + e);
      if (!s[0]) continue;
      if (said++) ps_sb_puts(b, ",");
      ps_json_str(b, s);
    }
    ps_sb_puts(b, "]}");
    if (name.oom || highs.oom || lows.oom) b->oom = 1;
    ps_sb_free(&name);
    ps_sb_free(&highs);
    ps_sb_free(&lows);
  }
  ps_sb_puts(b, "]");
}

static void rows_json(ps_sb_t *b, const ps_html_t *h) {
  const int64_t n = h->n_drawn;
  ps_sb_puts(b, "{");
  int_field(b, "n_total", h->n_rows);
  int_field(b, "stride", h->stride);
  i64s_field(b, "ids", h->ids, n);
  strs_field(b, "names", h->names, n, h->name_width);
  i32s_field(b, "seg", h->labels, n);
  f64s_field(b, "dist", h->distance, n, 4);
  col_field(b, "pc1", h->pc, n, 2, 0, 4);
  col_field(b, "pc2", h->pc, n, 2, 1, 4);
  i32s_field(b, "sub", h->sub_labels, n);
  f64s_field(b, "weight", h->weight, n, 6);
  strs_field(b, "key_names", h->key_names, h->n_key, h->key_width);
  f64m_field(b, "key", h->key, n, h->n_key, 5);
  key(b, "old");
  if (h->model_labels)
    ps_json_i32s(b, h->model_labels, n);
  else
    ps_sb_puts(b, "null");
  ps_sb_puts(b, "}");
}

static void data_json(ps_sb_t *b, const ps_html_t *h) {
  ps_sb_puts(b, "{");
  str_field(b, "kind", h->predictions ? "predictions" : "results");
  str_field(b, "source", h->source);
  str_field(b, "input", h->input);
  str_field(b, "model", h->model);
  str_field(b, "command_line", h->command_line);
  str_field(b, "weights_name", h->weights_name);
  str_field(b, "mean_kind", h->mean_kind);
  strs_field(b, "features", h->fnames, h->d, h->fwidth);
  int_field(b, "K", h->K);
  int_field(b, "k", h->k);
  f64s_field(b, "evr", h->evr, h->p, 6);
  f64m_field(b, "components", h->components, h->K, h->d, 5);
  f64m_field(b, "centroids", h->centroids, h->k, h->K, 5);
  f64m_field(b, "index", h->index, h->k, h->d, 5);
  f64m_field(b, "means", h->mean, h->k, h->d, 5);
  f64s_field(b, "overall", h->overall_mean, h->d, 5);
  key(b, "segments");
  segments_json(b, h);
  ps_sb_puts(b, ",");
  key(b, "sub");
  if (h->m > 0) {
    ps_sb_puts(b, "{");
    strs_field(b, "codes", h->codes, h->m, h->code_width);
    i32s_field(b, "parent", h->parent, h->m);
    i64s_field(b, "sizes", h->sub_sizes, h->m);
    key(b, "weights");
    if (h->sub_weights)
      ps_json_f64s(b, h->sub_weights, h->m, 8);
    else
      ps_sb_puts(b, "null");
    ps_sb_puts(b, "}");
  } else {
    ps_sb_puts(b, "null");
  }
  ps_sb_puts(b, ",");
  key(b, "rows");
  rows_json(b, h);
  ps_sb_puts(b, ",");
  key(b, "sweep");
  if (h->n_k > 0) {
    ps_sb_puts(b, "{");
    i64s_field(b, "k", h->sweep_k, h->n_k);
    f64s_field(b, "inertia", h->sweep_inertia, h->n_k, 8);
    f64s_field(b, "silhouette", h->sweep_silhouette, h->n_k, 6);
    key(b, "suggested");
    ps_sb_printf(b, "%lld}", (long long)h->suggested_k);
  } else {
    ps_sb_puts(b, "null");
  }
  ps_sb_puts(b, ",");
  key(b, "predict");
  if (h->transition) {
    ps_sb_puts(b, "{");
    key(b, "transition");
    ps_sb_puts(b, "[");
    for (int64_t i = 0; i < h->k; i++) {
      if (i) ps_sb_puts(b, ",");
      ps_json_i64s(b, h->transition + i * h->k, h->k);
    }
    ps_sb_puts(b, "],");
    int_field(b, "matched", h->matched);
    int_field(b, "changed", h->changed);
    key(b, "n_new");
    ps_sb_printf(b, "%lld}", (long long)h->n_new);
  } else {
    ps_sb_puts(b, "null");
  }
  ps_sb_puts(b, ",");
  key(b, "map");
  ps_sb_puts(b, "{");
  key(b, "available");
  ps_sb_puts(b, ps_assets_missing() ? "false," : "true,");
  str_field(b, "missing", ps_assets_missing());
  key(b, "versions");
  ps_json_str(b, ps_assets_versions());
  ps_sb_puts(b, "}}");
}

/* An embedded script, or nothing when the build did not have it. */
static void script(ps_sb_t *b, const char *name) {
  const ps_asset_t *a = ps_asset(name);
  if (!a) return;
  ps_sb_printf(b, "<script data-asset=\"%s\">\n", name);
  ps_sb_put(b, a->data, a->len);
  ps_sb_puts(b, "\n</script>\n");
}

void ps_html_build(const ps_html_t *h, ps_sb_t *out) {
  const ps_asset_t *css = ps_asset("report.css"), *atlas = ps_asset("counties-10m.json");
  const ps_asset_t *lic = ps_asset("LICENSES.txt");
  ps_sb_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>popseg report: ");
  html_esc(out, h->source[0] ? h->source : h->input);
  ps_sb_puts(out, "</title>\n<style>\n");
  if (css) ps_sb_put(out, css->data, css->len);
  ps_sb_puts(out, "\n</style>\n</head>\n<body>\n<header><h1>popseg ");
  ps_sb_puts(out, h->predictions ? "predictions" : "segmentation");
  ps_sb_puts(out, " report</h1>\n<p class=\"source\">");
  html_esc(out, h->source[0] ? h->source : h->input);
  ps_sb_puts(out, "</p></header>\n<div id=\"errors\" hidden></div>\n"
                  "<noscript><p>This report draws its charts with JavaScript.</p></noscript>\n"
                  "<main id=\"app\"></main>\n<footer>\n<details><summary>Command line and "
                  "embedded software</summary>\n<pre class=\"cmd\">");
  html_esc(out, h->command_line);
  ps_sb_puts(out, "</pre>\n<p>");
  if (ps_assets_missing()) {
    ps_sb_puts(out, "No map: ");
    html_esc(out, ps_assets_missing());
  } else {
    ps_sb_puts(out, "The map uses ");
    html_esc(out, ps_assets_versions());
    ps_sb_puts(out, ". County shapes: us-atlas, from the US Census Bureau's cartographic "
                    "boundary files. Their licences:");
  }
  ps_sb_puts(out, "</p>\n");
  if (lic) {
    ps_sb_puts(out, "<pre class=\"licences\">");
    html_esc(out, lic->data);
    ps_sb_puts(out, "</pre>\n");
  }
  ps_sb_puts(out, "</details>\n</footer>\n<div id=\"tooltip\" hidden></div>\n"
                  "<script id=\"popseg-data\" type=\"application/json\">");
  data_json(out, h);
  ps_sb_puts(out, "</script>\n");
  if (atlas) {
    ps_sb_puts(out, "<script id=\"popseg-atlas\" type=\"application/json\">");
    ps_sb_put(out, atlas->data, atlas->len);
    ps_sb_puts(out, "</script>\n");
    script(out, "d3-array.min.js");
    script(out, "d3-geo.min.js");
    script(out, "topojson-client.min.js");
  }
  script(out, "report.js");
  ps_sb_puts(out, "</body>\n</html>\n");
}
