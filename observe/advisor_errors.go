package observe

import "errors"

// ErrPanic is wrapped by the error a panicking advisor rule, scaler action
// or page action becomes; the process lives and the other rules run.
var ErrPanic = errors.New("observe: panic")
