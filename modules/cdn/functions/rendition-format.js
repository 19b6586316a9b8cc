// CloudFront Function (cloudfront-js-2.0), viewer request of the /r/* behavior.
//
// Puts the image format the viewer accepts into the URI, so the cache key needs no Accept
// header and every format of a rendition is its own S3 object (keys from lambda_src/imgsvc/keys.py):
//   /r/<id>/<version>/<size>           -> /r/<id>/<version>/<size>/<format>
//   /r/<id>/<version>/<size>/<format>  -> unchanged (format: original, webp or avif)
// <format>: of avif (when enabled) and webp, the one Accept names with the higher non-zero q
// (avif on a tie), else original. The same rule as negotiate() in lambda_src/imgsvc/renditions.py:
// q follows RFC 7231's qvalue grammar (anything else counts as 0), the last of repeated ranges wins.
// Any other path under /r/ is not a rendition: it gets a 404 here, before S3 or the Lambda.
//
// Terraform renders this file with templatefile(); the only placeholder is avif_enabled. Read
// raw (as the tests do) the comparison below is false, so AVIF is off.
var AVIF_ENABLED = "${avif_enabled}" === "true";

var RENDITION = /^\/r\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\/[1-9][0-9]{0,8}\/[^\/]{1,32}(\/(original|webp|avif))?$/;
var WITH_FORMAT = /\/(original|webp|avif)$/;

var QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;

// { media range: q } of an Accept header; a malformed q is 0, the last of repeated ranges wins.
function acceptQ(accept) {
  var ranges = {};
  var parts = accept.split(",");
  for (var i = 0; i < parts.length; i++) {
    var params = parts[i].split(";");
    var media = params[0].trim().toLowerCase();
    if (media.indexOf("/") < 0) {
      continue;
    }
    var q = 1;
    for (var j = 1; j < params.length; j++) {
      var param = params[j];
      var eq = param.indexOf("=");
      var name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
      if (name === "q") {
        var value = eq < 0 ? "" : param.slice(eq + 1).trim();
        q = QVALUE.test(value) ? parseFloat(value) : 0;
      }
    }
    ranges[media] = q;
  }
  return ranges;
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

  var ranges = acceptQ(acceptHeader(request.headers));
  var avif = AVIF_ENABLED && ranges["image/avif"] > 0 ? ranges["image/avif"] : 0;
  var webp = ranges["image/webp"] > 0 ? ranges["image/webp"] : 0;
  var format = "original";
  if (avif > 0 && avif >= webp) {
    format = "avif";
  } else if (webp > 0) {
    format = "webp";
  }
  request.uri = uri + "/" + format;
  return request;
}
