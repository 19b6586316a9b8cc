# State written before the stage roots called environments/stack (each root held the whole
# composition, with one module call per function) moves to the new addresses: an existing stage
# plans no change. Every GIF effect gif_effects allows is listed; a move whose `from` is not in
# the state does nothing.

moved {
  from = module.originals
  to   = module.stack.module.originals
}

moved {
  from = module.renditions
  to   = module.stack.module.renditions
}

moved {
  from = module.uploads
  to   = module.stack.module.uploads
}

moved {
  from = module.table
  to   = module.stack.module.table
}

moved {
  from = module.cdn
  to   = module.stack.module.cdn
}

moved {
  from = module.api
  to   = module.stack.module.api
}

moved {
  from = module.effects_fanout
  to   = module.stack.module.effects_fanout
}

moved {
  from = module.uploads_pipeline
  to   = module.stack.module.uploads_pipeline
}

moved {
  from = module.resize
  to   = module.stack.module.resize
}

moved {
  from = module.api_function
  to   = module.stack.module.function["api"]
}

moved {
  from = module.uploads_function
  to   = module.stack.module.function["uploads"]
}

moved {
  from = module.effects["zoom"]
  to   = module.stack.module.function["effect-zoom"]
}

moved {
  from = module.effects["spin"]
  to   = module.stack.module.function["effect-spin"]
}

moved {
  from = module.effects["hue"]
  to   = module.stack.module.function["effect-hue"]
}

moved {
  from = aws_lambda_layer_version.dependencies
  to   = module.stack.aws_lambda_layer_version.dependencies
}

moved {
  from = aws_s3_object.web
  to   = module.stack.aws_s3_object.web
}

moved {
  from = aws_s3_object.web_config
  to   = module.stack.aws_s3_object.web_config
}
