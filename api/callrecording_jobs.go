package api

// Call recording jobs (§6): the vendor changes of §5.2, stored COMPLETED
// by the transaction that applied them, in Webex's
// CallRecordingJobStatus shape.

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/callrec/callrec"
	"github.com/callrec/callrec/directory"
)

// callRecordingJobCountsJSON is a job's counts (§6.2, §12 D4).
type callRecordingJobCountsJSON struct {
	TotalNumberOfLocations int `json:"totalNumberOfLocations" doc:"locations whose vendor the job changed"`
	TotalNumberOfUsers     int `json:"totalNumberOfUsers" doc:"people and virtual lines the job looked at"`
	FailedUsers            int `json:"failedUsers"`
	UpdatedUsers           int `json:"updatedUsers"`
}

// callRecordingJobStepJSON is a StepExecutionStatus (§6.2).
type callRecordingJobStepJSON struct {
	ID            int    `json:"id"`
	StartTime     string `json:"startTime,omitempty"`
	EndTime       string `json:"endTime,omitempty"`
	LastUpdated   string `json:"lastUpdated"`
	StatusMessage string `json:"statusMessage"`
	ExitCode      string `json:"exitCode,omitempty"`
	Name          string `json:"name"`
	TimeElapsed   string `json:"timeElapsed"`
}

// callRecordingJobExecutionJSON is a JobExecutionStatus (§6.2).
type callRecordingJobExecutionJSON struct {
	ID                    int                        `json:"id"`
	StartTime             string                     `json:"startTime,omitempty"`
	EndTime               string                     `json:"endTime,omitempty"`
	LastUpdated           string                     `json:"lastUpdated"`
	StatusMessage         string                     `json:"statusMessage" doc:"STARTING, STARTED, COMPLETED, FAILED, UNKNOWN or ABANDONED"`
	ExitCode              string                     `json:"exitCode,omitempty" doc:"UNKNOWN, COMPLETED, FAILED, STOPPED, COMPLETED_WITH_ERRORS or COMPLETED_WITH_PENDING_ORDERS"`
	CreatedTime           string                     `json:"createdTime"`
	TimeElapsed           string                     `json:"timeElapsed" doc:"ISO 8601 duration, e.g. PT0.012S"`
	StepExecutionStatuses []callRecordingJobStepJSON `json:"stepExecutionStatuses,omitempty"`
}

// callRecordingJobStatusJSON is CallRecordingJobStatus (§6.2).
type callRecordingJobStatusJSON struct {
	Name                  string                          `json:"name,omitempty"`
	ID                    string                          `json:"id"`
	TrackingID            string                          `json:"trackingId" doc:"the trackingId of the request that started the job"`
	SourceUserID          string                          `json:"sourceUserId" doc:"who started the job (callrec: the admin's email)"`
	SourceCustomerID      string                          `json:"sourceCustomerId"`
	TargetCustomerID      string                          `json:"targetCustomerId"`
	InstanceID            int                             `json:"instanceId" doc:"the job's number in the org, from 1"`
	JobExecutionStatus    []callRecordingJobExecutionJSON `json:"jobExecutionStatus"`
	LatestExecutionStatus string                          `json:"latestExecutionStatus" doc:"STARTING, STARTED, COMPLETED or FAILED"`
	LocationID            string                          `json:"locationId,omitempty"`
	VendorID              string                          `json:"vendorId"`
	Counts                callRecordingJobCountsJSON      `json:"counts"`
}

// callRecordingJobsJSON is the jobs list (§6.1).
type callRecordingJobsJSON struct {
	Items []callRecordingJobStatusJSON `json:"items"`
}

// callRecordingJobErrorMessageJSON is one message of a job error (§6.3).
type callRecordingJobErrorMessageJSON struct {
	Description string `json:"description"`
	Code        string `json:"code"`
	LocationID  string `json:"locationId,omitempty"`
}

// callRecordingJobErrorJSON is the error of a job item (§6.3).
type callRecordingJobErrorJSON struct {
	Key     string                             `json:"key" doc:"HTTP status code"`
	Message []callRecordingJobErrorMessageJSON `json:"message"`
}

// callRecordingJobErrorItemJSON is an ItemObject (§6.3).
type callRecordingJobErrorItemJSON struct {
	Item       string                    `json:"item"`
	ItemNumber int                       `json:"itemNumber"`
	TrackingID string                    `json:"trackingId"`
	Error      callRecordingJobErrorJSON `json:"error"`
}

// callRecordingJobErrorsJSON is the job errors list (§6.3).
type callRecordingJobErrorsJSON struct {
	Items []callRecordingJobErrorItemJSON `json:"items"`
}

// Job list pagination (§1.6).
const (
	crJobsDefMax = 50
	crJobsMaxMax = 1000
)

// crJobExit is a job's exit code (§6.2) from its status and counts.
func crJobExit(j *callrec.Job) string {
	switch {
	case j.Status == "FAILED":
		return "FAILED"
	case j.Status != "COMPLETED":
		return "UNKNOWN"
	case j.Failed > 0:
		return "COMPLETED_WITH_ERRORS"
	}
	return "COMPLETED"
}

// renderJob renders job j, the instance-th of its org.
func renderJob(j *callrec.Job, instance int) callRecordingJobStatusJSON {
	start, end := crTime(j.Created), crTime(j.Finished)
	last := end
	if last == "" {
		last = start
	}
	elapsed := ""
	if !j.Finished.IsZero() {
		elapsed = crElapsed(j.Finished.Sub(j.Created))
	} else {
		elapsed = crElapsed(0)
	}
	exit := crJobExit(j)
	out := callRecordingJobStatusJSON{
		Name:             crJobName,
		ID:               webexID(idJob, j.ID),
		TrackingID:       j.TrackingID,
		SourceUserID:     j.By,
		SourceCustomerID: webexID(idOrg, j.OrgID),
		TargetCustomerID: webexID(idOrg, j.OrgID),
		InstanceID:       instance,
		JobExecutionStatus: []callRecordingJobExecutionJSON{{
			ID: instance, StartTime: start, EndTime: end, LastUpdated: last,
			StatusMessage: j.Status, ExitCode: exit, CreatedTime: start, TimeElapsed: elapsed,
			StepExecutionStatuses: []callRecordingJobStepJSON{{
				ID: 1, StartTime: start, EndTime: end, LastUpdated: last, StatusMessage: j.Status, ExitCode: exit,
				Name: crJobName + "UpdateCallRecordingProviderForUsers", TimeElapsed: elapsed,
			}},
		}},
		LatestExecutionStatus: j.Status,
		VendorID:              webexID(idVendor, j.VendorID),
		Counts: callRecordingJobCountsJSON{
			TotalNumberOfLocations: j.Locations, TotalNumberOfUsers: j.Users,
			FailedUsers: j.Failed, UpdatedUsers: j.Updated,
		},
	}
	if j.LocationID != "" {
		out.LocationID = webexID(idLocation, j.LocationID)
	}
	return out
}

// crListJobs is GET /v1/telephony/config/jobs/callRecording (§6.1),
// newest first.
func (s *server) crListJobs(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	start, max, err := pageParams(r, crJobsDefMax, crJobsMaxMax)
	if err != nil {
		return err
	}
	var items []callRecordingJobStatusJSON
	err = s.store.View(r.Context(), func(tx directory.Tx) error {
		jobs, err := directory.Jobs.List(r.Context(), tx, org.ID)
		if err != nil {
			return fmt.Errorf("api: jobs: %w", err)
		}
		items = make([]callRecordingJobStatusJSON, 0, len(jobs))
		for i := range jobs {
			items = append(items, renderJob(&jobs[i], i+1))
		}
		slices.Reverse(items)
		return nil
	})
	if err != nil {
		return err
	}
	writePage(s, w, r, items, start, max, "items", nil)
	return nil
}

// crJob finds the job of the path in the org, with its instance number;
// 404 when the id does not parse or names another org's.
func crJob(ctx context.Context, tx directory.Tx, orgID, raw string) (*callrec.Job, int, error) {
	id, ok := parseID(idJob, raw)
	if !ok {
		return nil, 0, notFoundf("Job %s was not found", quote(raw))
	}
	jobs, err := directory.Jobs.List(ctx, tx, orgID)
	if err != nil {
		return nil, 0, fmt.Errorf("api: jobs: %w", err)
	}
	for i := range jobs {
		if jobs[i].ID == id {
			return &jobs[i], i + 1, nil
		}
	}
	return nil, 0, notFoundf("Job %s was not found", quote(raw))
}

// crGetJob is GET /v1/telephony/config/jobs/callRecording/{jobId} (§6.2).
func (s *server) crGetJob(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	var out callRecordingJobStatusJSON
	err := s.store.View(r.Context(), func(tx directory.Tx) error {
		j, n, err := crJob(r.Context(), tx, org.ID, r.PathValue("jobId"))
		if err != nil {
			return err
		}
		out = renderJob(j, n)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// crGetJobErrors is GET .../jobs/callRecording/{jobId}/errors (§6.3).
func (s *server) crGetJobErrors(w http.ResponseWriter, r *http.Request, _ *callrec.Token, org *callrec.Org) error {
	start, max, err := pageParams(r, crJobsDefMax, crJobsMaxMax)
	if err != nil {
		return err
	}
	var items []callRecordingJobErrorItemJSON
	err = s.store.View(r.Context(), func(tx directory.Tx) error {
		j, _, err := crJob(r.Context(), tx, org.ID, r.PathValue("jobId"))
		if err != nil {
			return err
		}
		items = make([]callRecordingJobErrorItemJSON, 0, len(j.Errors))
		for i, e := range j.Errors {
			code := e.Code
			if code == "" {
				code = "500"
			}
			msg := callRecordingJobErrorMessageJSON{Description: e.Message, Code: code}
			if j.LocationID != "" {
				msg.LocationID = webexID(idLocation, j.LocationID)
			}
			items = append(items, callRecordingJobErrorItemJSON{
				Item: e.Item, ItemNumber: i, TrackingID: fmt.Sprintf("%s_%d", j.TrackingID, i),
				Error: callRecordingJobErrorJSON{Key: code, Message: []callRecordingJobErrorMessageJSON{msg}},
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writePage(s, w, r, items, start, max, "items", nil)
	return nil
}
