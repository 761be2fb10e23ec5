package orders

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestApply(t *testing.T) {
	vendor := Actor{RoleVendor, "v1"}
	otherVendor := Actor{RoleVendor, "v2"}
	d1 := Actor{RoleDriver, "d1"}
	d2 := Actor{RoleDriver, "d2"}
	customer := Actor{RoleCustomer, "c1"}
	order := func(s Status, driver string) Order {
		return Order{ID: "o", VendorID: "v1", CustomerID: "c1", Status: s, DriverID: driver, Version: 3}
	}
	tests := []struct {
		name        string
		from        Order
		action      Action
		actor       Actor
		wantStatus  Status
		wantDriver  string
		wantChanged bool
		wantErr     error
	}{
		{"claim ready", order(Ready, ""), ActionClaim, d1, Assigned, "d1", true, nil},
		{"claim retried by winner", order(Assigned, "d1"), ActionClaim, d1, Assigned, "d1", false, nil},
		{"claim lost", order(Assigned, "d1"), ActionClaim, d2, Assigned, "d1", false, ErrAlreadyClaimed},
		{"claim after pickup", order(PickedUp, "d1"), ActionClaim, d2, PickedUp, "d1", false, ErrAlreadyClaimed},
		{"claim cancelled", order(Cancelled, ""), ActionClaim, d1, Cancelled, "", false, ErrConflict},
		{"vendor cannot claim", order(Ready, ""), ActionClaim, vendor, Ready, "", false, ErrForbidden},
		{"pick up", order(Assigned, "d1"), ActionPickUp, d1, PickedUp, "d1", true, nil},
		{"pick up by other driver", order(Assigned, "d1"), ActionPickUp, d2, Assigned, "d1", false, ErrForbidden},
		{"pick up unassigned", order(Ready, ""), ActionPickUp, d1, Ready, "", false, ErrConflict},
		{"pick up retried", order(PickedUp, "d1"), ActionPickUp, d1, PickedUp, "d1", false, nil},
		{"in transit", order(PickedUp, "d1"), ActionInTransit, d1, InTransit, "d1", true, nil},
		{"in transit skipping pickup", order(Assigned, "d1"), ActionInTransit, d1, Assigned, "d1", false, ErrConflict},
		{"deliver", order(InTransit, "d1"), ActionDeliver, d1, Delivered, "d1", true, nil},
		{"deliver too early", order(PickedUp, "d1"), ActionDeliver, d1, PickedUp, "d1", false, ErrConflict},
		{"deliver twice", order(Delivered, "d1"), ActionDeliver, d1, Delivered, "d1", false, nil},
		{"cancel ready", order(Ready, ""), ActionCancel, vendor, Cancelled, "", true, nil},
		{"cancel assigned", order(Assigned, "d1"), ActionCancel, vendor, Cancelled, "d1", true, nil},
		{"cancel picked up", order(PickedUp, "d1"), ActionCancel, vendor, PickedUp, "d1", false, ErrConflict},
		{"cancel twice", order(Cancelled, ""), ActionCancel, vendor, Cancelled, "", false, nil},
		{"cancel other vendor's", order(Ready, ""), ActionCancel, otherVendor, Ready, "", false, ErrNotFound},
		{"driver cannot cancel", order(Ready, ""), ActionCancel, d1, Ready, "", false, ErrForbidden},
		{"customer cannot act", order(InTransit, "d1"), ActionDeliver, customer, InTransit, "d1", false, ErrForbidden},
		{"unknown action", order(Ready, ""), Action("teleport"), d1, Ready, "", false, &Error{Code: CodeInvalidArgument}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := Apply(tt.from, tt.action, tt.actor)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantChanged, changed)
			if !changed {
				assert.Equal(t, tt.from, got, "a refused or retried action leaves the order as it was")
				return
			}
			assert.Equal(t, tt.wantStatus, got.Status)
			assert.Equal(t, tt.wantDriver, got.DriverID)
			assert.Equal(t, tt.from.Version+1, got.Version)
		})
	}
}

func TestCodeOf(t *testing.T) {
	code, msg := CodeOf(ErrAlreadyClaimed)
	assert.Equal(t, CodeAlreadyClaimed, code)
	assert.NotEmpty(t, msg)
	code, _ = CodeOf(assert.AnError)
	assert.Equal(t, CodeInternal, code)
}

func TestRoleValid(t *testing.T) {
	for _, r := range Roles() {
		require.True(t, r.Valid(), r)
	}
	for _, r := range []Role{"", "admin", "Vendor", "vendor "} {
		require.False(t, r.Valid(), r)
	}
}
