-- The last four digits of the bank card of an approved purchase, for its receipt and reprints
-- (issue 11 item 8: a bank-card receipt names the card, masked, as bank receipts do). Only the
-- last four: the terminal's masked number is never stored whole, the full number never seen.
-- NULL: the terminal sent no card number, or the purchase was recorded before this migration.
-- Never edit this file once released: add a new timestamp-prefixed migration instead.
ALTER TABLE card_purchases ADD COLUMN card_tail TEXT
    CHECK (card_tail IS NULL OR (length(card_tail) = 4 AND card_tail GLOB '[0-9][0-9][0-9][0-9]'));

-- The approval, now with its card's tail, still never changes.
DROP TRIGGER card_purchases_fixed;
CREATE TRIGGER card_purchases_fixed BEFORE UPDATE ON card_purchases
WHEN NEW.payment_id IS NOT OLD.payment_id OR NEW.amount_fen IS NOT OLD.amount_fen
  OR NEW.voucher IS NOT OLD.voucher OR NEW.ref_no IS NOT OLD.ref_no OR NEW.txn_date IS NOT OLD.txn_date
  OR NEW.batch IS NOT OLD.batch OR NEW.auth_code IS NOT OLD.auth_code OR NEW.recorded_at IS NOT OLD.recorded_at
  OR NEW.card_tail IS NOT OLD.card_tail
BEGIN
    SELECT RAISE(ABORT, 'an approved card purchase is recorded once');
END;
