package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
)

// admin calls callrec's REST API with the admin token to set the org up
// the way e2e/callplane_test.go does: an org, a location, people with SIP
// credentials and a DID each, recording on (partner entitlement, terms of
// service of the built-in provider, each person "Always" with no repeat
// tone and no start/stop announcement, so nothing but the parties' audio
// passes the relay), no PSTN compliance announcement, and the trunk.
type admin struct {
	base  *url.URL
	token string
	http  *http.Client
	orgQ  string
}

// do sends a JSON request and decodes the answer into out (when not nil);
// a status other than want is an error with the body.
func (a *admin) do(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("callload: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u, err := a.base.Parse(path + a.orgQ)
	if err != nil {
		return fmt.Errorf("callload: %s %s: %w", method, path, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("callload: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("callload: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != want {
		return fmt.Errorf("callload: %s %s: %s: %.300s", method, path, res.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("callload: %s %s: %w", method, path, err)
		}
	}
	return nil
}

// phoneAccount is one provisioned phone.
type phoneAccount struct {
	user, password, did string
	personID            string
}

// account i's credentials and DID.
func account(i int) phoneAccount {
	return phoneAccount{
		user:     fmt.Sprintf("7%05d", i),
		password: fmt.Sprintf("Load-pw-%05d-x", i),
		did:      fmt.Sprintf("+4552%06d", i),
	}
}

type idJSON struct {
	ID string `json:"id"`
}

// provision creates the org with n phones and the trunk at trunkAddr:port.
func (a *admin) provision(ctx context.Context, label string, n, trunkPort int) ([]phoneAccount, error) {
	var org, loc idJSON
	if err := a.do(ctx, "POST", "/v1/organizations", map[string]any{"displayName": "callload " + label}, 200, &org); err != nil {
		return nil, err
	}
	a.orgQ = "?orgId=" + url.QueryEscape(org.ID)
	if err := a.do(ctx, "POST", "/v1/locations", map[string]any{"name": "Load", "timeZone": "Europe/Copenhagen", "announcementLanguage": "en_US"}, 200, &loc); err != nil {
		return nil, err
	}
	if err := a.do(ctx, "PUT", "/v1/telephony/config/callRecording", map[string]any{"enabled": true}, 204, nil); err != nil {
		return nil, err
	}
	var vendors struct {
		VendorID string `json:"vendorId"`
	}
	if err := a.do(ctx, "GET", "/v1/telephony/config/callRecording/vendors", nil, 200, &vendors); err != nil {
		return nil, err
	}
	if err := a.do(ctx, "PUT", "/v1/telephony/config/callRecording/vendors/"+url.PathEscape(vendors.VendorID)+"/termsOfService",
		map[string]any{"termsOfServiceEnabled": true}, 204, nil); err != nil {
		return nil, err
	}
	if err := a.do(ctx, "PUT", "/v1/telephony/config/callRecording/complianceAnnouncement",
		map[string]any{"inboundPSTNCallsEnabled": false, "outboundPSTNCallsEnabled": false}, 204, nil); err != nil {
		return nil, err
	}
	accounts := make([]phoneAccount, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := a.person(ctx, loc.ID, i, &accounts[i]); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	err := a.do(ctx, "POST", "/v1/telephony/config/premisePstn/trunks", map[string]any{"name": "load gateway", "locationId": loc.ID,
		"address": "127.0.0.1", "port": trunkPort, "transport": "UDP"}, 200, nil)
	return accounts, err
}

// person creates phone i and turns its recording on.
func (a *admin) person(ctx context.Context, locID string, i int, out *phoneAccount) error {
	acc := account(i)
	var p idJSON
	if err := a.do(ctx, "POST", "/v1/people", map[string]any{"emails": []string{fmt.Sprintf("load%05d@callload.example", i)}, "firstName": "Load",
		"lastName": fmt.Sprint(i), "locationId": locID, "licenseType": "PROFESSIONAL_USER", "extension": acc.user,
		"phoneNumbers":   []map[string]string{{"type": "work", "value": acc.did}},
		"sipCredentials": map[string]any{"username": acc.user, "password": acc.password}}, 200, &p); err != nil {
		return err
	}
	if err := a.do(ctx, "PUT", "/v1/people/"+url.PathEscape(p.ID)+"/features/callRecording", map[string]any{"enabled": true, "record": "Always",
		"repeat":                map[string]any{"enabled": false},
		"startStopAnnouncement": map[string]any{"internalCallsEnabled": false, "pstnCallsEnabled": false}}, 204, nil); err != nil {
		return err
	}
	acc.personID = p.ID
	*out = acc
	return nil
}
