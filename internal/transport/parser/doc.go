// Package parser encodes and decodes Socket.IO v5 packets (the text form
// carried in an Engine.IO message, plus binary attachments). It validates
// what the reference parser validates, keeps JSON payloads raw and never
// panics on hostile input.
package parser
