# build.py's output: dist/manifest.json names each function's zip and handler, the layer and the
# architecture they were built for. `make build` writes it; a missing one fails the plan
# (validations on var.artifacts_dir) with a message saying so.
locals {
  artifacts_dir = startswith(var.artifacts_dir, "/") ? var.artifacts_dir : "${path.root}/${var.artifacts_dir}"
  manifest      = jsondecode(file("${local.artifacts_dir}/manifest.json"))
  layer_zip     = "${local.artifacts_dir}/${local.manifest.layer.zip}"
}

# Pillow and the other runtime libraries, shared by every function.
resource "aws_lambda_layer_version" "dependencies" {
  layer_name               = "${var.name_prefix}-dependencies"
  description              = "Runtime dependencies of the image service (build.py, ${local.manifest.arch})."
  filename                 = local.layer_zip
  source_code_hash         = filebase64sha256(local.layer_zip)
  compatible_runtimes      = [local.manifest.runtime]
  compatible_architectures = [local.manifest.arch]
}
