// Package flows is the product's heart: the domain (certificates, packages,
// promo codes, orders, payments, dossiers) and the conversations as one
// explicit transition table, in pure Go — no Telegram, SQL or Redis here.
// It declares the ports it needs (Customers, Certificates, Catalog, Orders,
// Sessions, OTPs, Mailer, Files…); storage/ and bot/ implement them.
//
// The conversation (machine.go holds the table, renewal.go the renewal rows):
//
//	new ──/start──▶ await_contact ──own contact, known phone──▶ idle (linked)
//	                     │ unknown phone: message + "talk to a person", stay
//	idle ──/renew, "Renew now", a certificate's Renew──▶ renew_cert (several)
//	     ──▶ renew_package ──pkg──▶ renew_order (type a code, Apply, remove)
//	     ──next──▶ renew_subject ──next──▶ renew_invoice ──next──▶ renew_payer
//	     ──next──▶ renew_confirm ──Pay──▶ renew_await_payment (VietQR)
//	         (each check step: edit ──▶ renew_edit ──valid value──▶ back)
//	     ──payment callback / staff /paid──▶ renew_dossier ──Confirm──▶
//	          case 1 (valid, not member): renew_otp ──right code──▶ submitted, idle
//	          case 2 (expired or member): renew_sign_method ──hand|digital──▶
//	                renew_upload ──photos|signed PDF, Send dossier──▶ submitted, idle
//
// Everywhere: /start /help /menu /lang /certs /renew /status /human /cancel,
// and the Back, Cancel and "Talk to a person" buttons. A button drawn for an
// earlier step (its callback data carries the session version) gets "this
// button has expired" and the current step again; entry points (Renew, My
// certificates, Status, Menu, Talk to a person) work from any message. An
// input a state does not accept gets a message and the same step again.
// Losing the Redis cursor loses nothing: the link and open orders are in
// Postgres, and /renew resumes an order at the step its status says.
package flows
