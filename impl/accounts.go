package impl

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/auth"
	"github.com/gatehouse-auth/gatehouse/gen/api"
)

// The bodies of the 202s: the same whatever happened behind them.
const (
	forgotAccepted = "if the address belongs to an account, a reset link is on its way"
	inviteAccepted = "an invitation is on its way"
)

// Signup creates an account, when sign-up is open.
func (h *Handlers) Signup(ctx context.Context, req api.SignupRequestObject) (api.SignupResponseObject, error) {
	b := req.Body
	u, err := h.svc.Signup(ctx, auth.NewUser{
		Username: b.Username, Password: b.Password, Email: string(b.Email),
		FirstName: deref(b.FirstName), LastName: deref(b.LastName),
	}, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.Signup201JSONResponse(fromStoreUser(h.svc, u)), nil
}

// VerifyEmail spends a mailed verification token.
func (h *Handlers) VerifyEmail(ctx context.Context, req api.VerifyEmailRequestObject) (api.VerifyEmailResponseObject, error) {
	u, err := h.svc.VerifyEmail(ctx, req.Body.Token, originFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.VerifyEmail200JSONResponse(fromStoreUser(h.svc, u)), nil
}

// SendMyVerification mails the authenticated user a new verification link.
func (h *Handlers) SendMyVerification(ctx context.Context, _ api.SendMyVerificationRequestObject) (api.SendMyVerificationResponseObject, error) {
	u, err := h.me(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.svc.SendVerification(ctx, u.ID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.SendMyVerification204Response{}, nil
}

// ForgotPassword mails a reset link if the address is an account's; the
// answer is the same either way.
func (h *Handlers) ForgotPassword(ctx context.Context, req api.ForgotPasswordRequestObject) (api.ForgotPasswordResponseObject, error) {
	if err := h.svc.ForgotPassword(ctx, string(req.Body.Email), originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.ForgotPassword202JSONResponse{Message: forgotAccepted}, nil
}

// ResetPassword sets a password with a mailed reset or invitation token.
func (h *Handlers) ResetPassword(ctx context.Context, req api.ResetPasswordRequestObject) (api.ResetPasswordResponseObject, error) {
	if err := h.svc.ResetPassword(ctx, req.Body.Token, req.Body.NewPassword, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.ResetPassword204Response{}, nil
}

// InviteUser mails a user a new invitation.
func (h *Handlers) InviteUser(ctx context.Context, req api.InviteUserRequestObject) (api.InviteUserResponseObject, error) {
	if err := h.svc.InviteUser(ctx, req.Id.String(), principalFrom(ctx).UserID, originFrom(ctx)); err != nil {
		return nil, err
	}
	return api.InviteUser202JSONResponse{Message: inviteAccepted}, nil
}
