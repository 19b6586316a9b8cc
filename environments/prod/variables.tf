# What may change from one run to the next, not from one stage to the other (those settings are
# in main.tf): `terraform plan -var=...` sets them.

variable "artifacts_dir" {
  description = "Directory with build.py's output (manifest.json, the function zips and the layer), relative to this directory or absolute. `make build` writes it."
  type        = string
  default     = "../../dist"
  nullable    = false
}

variable "cdn_wait_for_deployment" {
  description = "Wait for CloudFront to finish deploying (up to ~15 minutes) before apply returns."
  type        = bool
  default     = true
  nullable    = false
}
