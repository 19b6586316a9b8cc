"""Serverless image service: the Lambda package.

Handlers live in :mod:`imgsvc.handlers`; everything they call is a typed function over plain
values (:mod:`imgsvc.imaging`, :mod:`imgsvc.service`, ...) so it can be tested without events.
"""
