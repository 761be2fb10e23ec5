package dispatch

import (
	"github.com/dispatchd/dispatchd/internal/delivery"
	"github.com/dispatchd/dispatchd/internal/orders"
	"github.com/dispatchd/dispatchd/internal/transport"
)

// Namespaces of the dispatch service.
const (
	NSVendors     = "/vendors"
	NSDrivers     = "/drivers"
	NSCustomers   = "/customers"
	NSDispatchers = "/dispatchers"
)

// FeedDispatcher is a dispatcher's own durable feed, keyed by its user
// id (delivery treats any feed of Config.Feeds so).
const FeedDispatcher = "o"

// Audience is one kind of client: the role its token carries, the
// namespace it connects to, the durable feed keyed by its user id, the
// label its namespace has in metrics, and the handlers of its events.
type Audience struct {
	Role      orders.Role
	Namespace string
	Feed      string // delivery.FeedVendor, …: where its own events are stored
	Metric    string // the "namespace" label of its sockets and events
	mount     func(*Handlers, *transport.Namespace)
}

// Audiences returns the audience table: adding a namespace is one row
// here and its handler file (the mount function).
func Audiences() []Audience {
	return []Audience{
		{Role: orders.RoleVendor, Namespace: NSVendors, Feed: delivery.FeedVendor, Metric: NSVendors, mount: (*Handlers).mountVendors},
		{Role: orders.RoleDriver, Namespace: NSDrivers, Feed: delivery.FeedDriver, Metric: NSDrivers, mount: (*Handlers).mountDrivers},
		{Role: orders.RoleCustomer, Namespace: NSCustomers, Feed: delivery.FeedCustomer, Metric: NSCustomers, mount: (*Handlers).mountCustomers},
		{Role: orders.RoleDispatcher, Namespace: NSDispatchers, Feed: FeedDispatcher, Metric: NSDispatchers, mount: (*Handlers).mountDispatchers},
	}
}

// OwnFeeds names each role's own feed, for delivery.Config.Feeds.
func OwnFeeds() map[string]string {
	m := make(map[string]string)
	for _, a := range Audiences() {
		m[string(a.Role)] = a.Feed
	}
	return m
}
