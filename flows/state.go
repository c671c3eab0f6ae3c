package flows

// State is one step of a conversation. It is read back from Redis, so
// ParseState rejects anything unknown.
type State string

const (
	StateNew          State = "new"           // nothing said yet
	StateAwaitContact State = "await_contact" // asked to share the phone number
	StateIdle         State = "idle"          // linked, no conversation in progress
)

var knownStates = map[State]bool{}

func registerStates(ss ...State) {
	for _, s := range ss {
		knownStates[s] = true
	}
}

func init() { registerStates(StateNew, StateAwaitContact, StateIdle) }

// ParseState accepts only known states.
func ParseState(s string) (State, error) {
	if knownStates[State(s)] {
		return State(s), nil
	}
	return "", Errorf(Invalid, "unknown state %q", s)
}
