package api

import "net/http"

// callRoutes registers the call control routes (calls.go): active calls
// and their recording controls, in Webex's Call Controls shapes.
func (s *server) callRoutes() {
	const tag = "Call controls"
	const listAccess = "users: their own calls; full, read-only and partner admins: every call of the org (personId narrows to one person)"
	const controlAccess = "users (any token of a person): their own calls; full and partner admins: any call of the org with personId in the body"
	qPerson := param{"personId", "string", "admins: only this person's calls"}
	s.register(op{Method: "GET", Path: "/v1/telephony/calls", Summary: "List active calls with their recording state and the recording controls allowed now (R25, R35)", Tag: tag,
		Access: listAccess, Query: []param{qOrgID, qPerson},
		Resp: struct {
			Items []callJSON `json:"items"`
		}{}, Handler: s.authed(s.listCalls)})
	s.register(op{Method: "GET", Path: "/v1/telephony/calls/{callId}", Summary: "Get an active call's details", Tag: tag,
		Access: listAccess, Query: []param{qOrgID, qPerson}, Resp: callJSON{}, Handler: s.authed(s.getCall)})
	for _, a := range []struct{ action, path, summary string }{
		{callActionStart, "startRecording", "Start recording a call (on_demand users, R25, R35): as the start access code, with the start announcement when configured (R27)"},
		{callActionStop, "stopRecording", "Stop recording a call (on_demand users): as the stop access code"},
		{callActionPause, "pauseRecording", "Pause recording a call (on_demand and always_with_pause_resume users, while recording): as the pause access code, with the R28 notification"},
		{callActionResume, "resumeRecording", "Resume a paused recording: as the resume access code, with the R28 notification"},
	} {
		s.register(op{Method: "POST", Path: "/v1/telephony/calls/" + a.path, Summary: a.summary + ". 409 when the mode or the recording's state does not allow it (the message names the rule); 404 for a call the person is not in", Tag: tag,
			Access: controlAccess, Query: []param{qOrgID}, Body: callControlBody{}, Status: http.StatusNoContent,
			Handler: s.authed(s.controlCall(a.action))})
	}
}
