package rfc6455

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }
