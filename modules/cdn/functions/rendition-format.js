// CloudFront Function (cloudfront-js-2.0), viewer request of the /r/* behavior.
//
// Puts the image format the viewer accepts into the URI, so the cache key needs no Accept
// header and every format of a rendition is its own S3 object (keys from lambda_src/imgsvc/keys.py):
//   /r/<id>/<version>/<size>           -> /r/<id>/<version>/<size>/<format>
//   /r/<id>/<version>/<size>/<format>  -> unchanged (format: original, webp or avif)
// <format> is avif (when enabled) or webp when Accept names it with a non-zero q, else original.
// Any other path under /r/ is not a rendition: it gets a 404 here, before S3 or the Lambda.
//
// Terraform renders this file with templatefile(); the only placeholder is avif_enabled. Read
// raw (as the tests do) the comparison below is false, so AVIF is off.
var AVIF_ENABLED = "${avif_enabled}" === "true";

var RENDITION = /^\/r\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\/[1-9][0-9]{0,8}\/[^\/]{1,32}(\/(original|webp|avif))?$/;
var WITH_FORMAT = /\/(original|webp|avif)$/;

// True when the Accept header lists this exact media type with q > 0 (image/webp;q=0 refuses it).
function accepts(accept, type) {
  var ranges = accept.toLowerCase().split(",");
  for (var i = 0; i < ranges.length; i++) {
    var params = ranges[i].split(";");
    if (params[0].trim() !== type) {
      continue;
    }
    for (var j = 1; j < params.length; j++) {
      var pair = params[j].split("=");
      if (pair[0].trim() === "q" && !(parseFloat(pair[1]) > 0)) {
        return false;
      }
    }
    return true;
  }
  return false;
}

function acceptHeader(headers) {
  var header = headers.accept;
  if (!header) {
    return "";
  }
  if (header.multiValue) {
    return header.multiValue.map(function (v) { return v.value; }).join(",");
  }
  return header.value || "";
}

function notFound() {
  return {
    statusCode: 404,
    statusDescription: "Not Found",
    headers: {
      "content-type": { value: "application/json" },
      "cache-control": { value: "public, max-age=300" }
    },
    body: {
      encoding: "text",
      data: "{\"error\":{\"code\":\"not_found\",\"message\":\"Not a rendition: the path is /r/<id>/<version>/<size> with an optional /original, /webp or /avif.\"}}"
    }
  };
}

function handler(event) {
  var request = event.request;
  var uri = request.uri;

  if (!RENDITION.test(uri)) {
    return notFound();
  }
  if (WITH_FORMAT.test(uri)) {
    return request;
  }

  var accept = acceptHeader(request.headers);
  var format = "original";
  if (AVIF_ENABLED && accepts(accept, "image/avif")) {
    format = "avif";
  } else if (accepts(accept, "image/webp")) {
    format = "webp";
  }
  request.uri = uri + "/" + format;
  return request;
}
