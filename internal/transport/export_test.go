package transport

import "github.com/dispatchd/dispatchd/internal/transport/engineio"

func errSlowConsumerForTest() error { return engineio.ErrSlowConsumer }
