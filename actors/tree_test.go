package actors_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/persistence"
)

type fakeEndpoint struct {
	startErr         error
	started, stopped atomic.Int32
}

func (e *fakeEndpoint) Start() error { e.started.Add(1); return e.startErr }
func (e *fakeEndpoint) Stop()        { e.stopped.Add(1) }

func TestSuperintendent(t *testing.T) {
	db, err := persistence.Open(persistence.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := actors.Options{Store: db, Coordinators: coordinators.Kinds()}
	tests := []struct {
		name     string
		validate func() error
		endpoint *fakeEndpoint
		wantErr  string
	}{
		{name: "valid, with endpoint", endpoint: &fakeEndpoint{}},
		{name: "invalid config starts nothing", validate: func() error { return errors.New(`bots[1].id: "Bad Id" must match [a-z0-9][a-z0-9_-]{0,62}`) },
			endpoint: &fakeEndpoint{}, wantErr: `invalid configuration: bots[1].id: "Bad Id" must match`},
		{name: "endpoint that cannot start", endpoint: &fakeEndpoint{startErr: errors.New("listen tcp 127.0.0.1:1: address in use")},
			wantErr: "endpoint: listen tcp 127.0.0.1:1: address in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base
			opts.Validate, opts.Endpoint = tt.validate, tt.endpoint
			rt, err := actors.NewRuntime(opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if tt.validate != nil && tt.endpoint.started.Load() != 0 {
					t.Errorf("the endpoint started despite an invalid configuration")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := rt.AddBot("c", compileBot(t, counterBot)); err != nil {
				t.Fatal(err)
			}
			rt.Close()
			if s, st := tt.endpoint.started.Load(), tt.endpoint.stopped.Load(); s != 1 || st != 1 {
				t.Errorf("endpoint started %d and stopped %d times, want 1 and 1", s, st)
			}
		})
	}
}
