package impl

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// EnrollTotp starts a TOTP enrolment for the authenticated user.
func (h *Handlers) EnrollTotp(ctx context.Context, _ api.EnrollTotpRequestObject) (api.EnrollTotpResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	e, err := h.svc.EnrollTOTP(ctx, u.ID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.EnrollTotp200JSONResponse{
		Body:    api.TOTPEnrolment{Secret: e.Secret, OtpauthUri: e.URI},
		Headers: api.EnrollTotp200ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// ConfirmTotp activates the enrolled factor with a first code.
func (h *Handlers) ConfirmTotp(ctx context.Context, req api.ConfirmTotpRequestObject) (api.ConfirmTotpResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := h.svc.ConfirmTOTP(ctx, u.ID, req.Body.Code, principalFrom(ctx).SessionID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.ConfirmTotp200JSONResponse{
		Body:    api.RecoveryCodes{RecoveryCodes: codes},
		Headers: api.ConfirmTotp200ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// RegenerateRecoveryCodes replaces the recovery codes; it needs a token
// from a second step.
func (h *Handlers) RegenerateRecoveryCodes(ctx context.Context, _ api.RegenerateRecoveryCodesRequestObject) (api.RegenerateRecoveryCodesResponseObject, error) {
	p := principalFrom(ctx)
	if !slices.Contains(p.AMR, auth.AMROTP) && !slices.Contains(p.AMR, auth.AMRMFA) {
		return nil, errorf(KindForbidden, "a token from a second step (amr otp or mfa) is required: log in with the mfa-otp or mfa-recovery-code grant")
	}
	codes, err := h.svc.RegenerateRecoveryCodes(ctx, p.UserID, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.RegenerateRecoveryCodes200JSONResponse{
		Body:    api.RecoveryCodes{RecoveryCodes: codes},
		Headers: api.RegenerateRecoveryCodes200ResponseHeaders{CacheControl: ptr("no-store")},
	}, nil
}

// RemoveMyTotp removes the authenticated user's factor; it needs a token
// from a TOTP login. A user without a factor (never confirmed, or removed
// by an administrator) gets 404 rather than a demand for a second step it
// cannot take.
func (h *Handlers) RemoveMyTotp(ctx context.Context, _ api.RemoveMyTotpRequestObject) (api.RemoveMyTotpResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	if !u.MFAEnabled {
		return nil, errorf(KindNotFound, "the user has no second factor")
	}
	if !slices.Contains(principalFrom(ctx).AMR, auth.AMROTP) {
		return nil, errorf(KindForbidden, "a token from a TOTP login (amr otp) is required: log in with the mfa-otp grant")
	}
	if err := h.svc.RemoveTOTP(ctx, u.ID, u.ID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.RemoveMyTotp204Response{}, nil
}

// RemoveUserMfa is an administrator's removal of a user's factor.
func (h *Handlers) RemoveUserMfa(ctx context.Context, req api.RemoveUserMfaRequestObject) (api.RemoveUserMfaResponseObject, error) {
	if err := h.svc.RemoveTOTP(ctx, req.Id.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.RemoveUserMfa204Response{}, nil
}

// mfaGrant is the second step of a login on the token endpoint: the
// mfa-otp grant (otp) or the mfa-recovery-code grant (recovery_code).
func (h *Handlers) mfaGrant(ctx context.Context, body *api.TokenRequest, appID string, recovery bool) (auth.Tokens, error) {
	r := auth.MFALoginRequest{
		MFAToken: deref(body.MfaToken), OTP: deref(body.Otp), RecoveryCode: deref(body.RecoveryCode),
		AppID: appID, Origin: originFrom(ctx),
	}
	switch {
	case r.MFAToken == "":
		return auth.Tokens{}, errorf(KindInvalid, "mfa_token is required")
	case recovery && r.RecoveryCode == "":
		return auth.Tokens{}, errorf(KindInvalid, "recovery_code is required")
	case !recovery && r.OTP == "":
		return auth.Tokens{}, errorf(KindInvalid, "otp is required")
	}
	if recovery {
		r.OTP = ""
	} else {
		r.RecoveryCode = ""
	}
	sess, err := h.svc.LoginMFA(ctx, r)
	if errors.Is(err, auth.ErrInvalidGrant) {
		return auth.Tokens{}, &Error{Kind: KindInvalid, Code: "invalid_grant", Detail: "the mfa_token or the code is wrong, used or expired"}
	}
	return sess, err
}

// mfaRequired is the password grant's answer for a user with a second
// factor, in Auth0's wire format.
func mfaRequired(e *auth.MFARequiredError) api.CreateToken403JSONResponse {
	return api.CreateToken403JSONResponse{
		Body: api.MFARequiredError{
			Error: api.MfaRequired, MfaToken: e.MFAToken,
			ErrorDescription: "Multifactor authentication required: send the mfa_token with otp (grant_type http://auth0.com/oauth/grant-type/mfa-otp) or recovery_code (http://auth0.com/oauth/grant-type/mfa-recovery-code)",
		},
		Headers: api.CreateToken403ResponseHeaders{CacheControl: ptr("no-store")},
	}
}

// The second-step grants, as the discovery documents list them.
const (
	grantMFAOTP          = string(api.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaOtp)
	grantMFARecoveryCode = string(api.TokenRequestGrantTypeHttpauth0ComoauthgrantTypemfaRecoveryCode)
)
