# The web page: web/* to the CDN's site bucket, plus a generated config.js that tells the page
# where the API and the CDN are. Nothing is uploaded while web/ has no index.html.

locals {
  web_dir = "${local.repository_dir}/web"
  # config.js is generated below; a local one (for the local mode) is never uploaded.
  web_files = toset([
    for f in fileset(local.web_dir, "**") : f
    if f != "config.js" && !startswith(basename(f), ".")
  ])
  web_enabled = contains(local.web_files, "index.html")

  content_types = {
    html        = "text/html; charset=utf-8"
    css         = "text/css; charset=utf-8"
    js          = "text/javascript; charset=utf-8"
    mjs         = "text/javascript; charset=utf-8"
    json        = "application/json"
    map         = "application/json"
    svg         = "image/svg+xml"
    png         = "image/png"
    jpg         = "image/jpeg"
    jpeg        = "image/jpeg"
    gif         = "image/gif"
    webp        = "image/webp"
    avif        = "image/avif"
    ico         = "image/x-icon"
    txt         = "text/plain; charset=utf-8"
    woff2       = "font/woff2"
    webmanifest = "application/manifest+json"
  }

  # What web/lib/deployment.js reads. maxApiBytes is the API's body limit: the page sends larger
  # files straight to storage instead (docs/api-limits.md).
  web_config = {
    apiBaseUrl  = module.api.stage_invoke_url
    cdnBaseUrl  = local.cdn_base_url
    maxApiBytes = var.limits.max_body_bytes
  }
}

resource "aws_s3_object" "web" {
  for_each = local.web_enabled ? local.web_files : toset([])

  bucket       = module.cdn.site_bucket_name
  key          = each.key
  source       = "${local.web_dir}/${each.key}"
  etag         = filemd5("${local.web_dir}/${each.key}")
  content_type = lookup(local.content_types, lower(reverse(split(".", each.key))[0]), "application/octet-stream")
  # The CDN caches the page briefly (site_ttl); browsers revalidate.
  cache_control = "no-cache"
}

resource "aws_s3_object" "web_config" {
  count = local.web_enabled ? 1 : 0

  bucket        = module.cdn.site_bucket_name
  key           = "config.js"
  content       = "window.IMGSVC_CONFIG = ${jsonencode(local.web_config)};\n"
  content_type  = "text/javascript; charset=utf-8"
  cache_control = "no-cache"
}
