package auth

import (
	"testing"

	"github.com/lattice-sync/lattice/crdt"
)

func TestActorIsBoundToTenantSubjectAndDevice(t *testing.T) {
	base := Principal{Tenant: "acme", Subject: "anna"}
	a := base.Actor("tablet-7")
	if err := crdt.ValidateActor(a); err != nil || len(a) != 24 {
		t.Fatalf("actor %q is not a valid 24-character id: %v", a, err)
	}
	if again := (Principal{Tenant: "acme", Subject: "anna", Scopes: []string{"*"}}).Actor("tablet-7"); again != a {
		t.Errorf("same tenant, subject and device gave %q and %q", a, again)
	}
	others := map[string]string{
		"another subject": Principal{Tenant: "acme", Subject: "mallory"}.Actor("tablet-7"),
		"another tenant":  Principal{Tenant: "other", Subject: "anna"}.Actor("tablet-7"),
		"another device":  base.Actor("tablet-8"),
		// length prefixes keep the parts apart: "ann"+"atablet-7" is not "anna"+"tablet-7"
		"shifted boundary": Principal{Tenant: "acme", Subject: "ann"}.Actor("atablet-7"),
	}
	for name, o := range others {
		if o == a {
			t.Errorf("%s gives the same actor %q", name, a)
		}
	}
}
