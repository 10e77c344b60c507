//! Kubernetes quantities (`500m`, `2Gi`, `1e3`) as exact values, following
//! `resource.ParseQuantity`: <sign><digits>[.<digits>]<suffix>, where the suffix is a decimal
//! SI prefix (n u m k M G T P E), a binary one (Ki Mi Gi Ti Pi Ei) or an exponent (e3, E-2).

/// An exact quantity: `mantissa × 10^exp10 × 2^exp2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    pub mantissa: i128,
    pub exp10: i32,
    pub exp2: u32,
}

pub fn parse(text: &str) -> Option<Quantity> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1i128, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (whole, fraction) = match number.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    if digits.len() > 30 {
        return None;
    }
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let mut exp10 = -(fraction.len() as i32);
    let mut exp2 = 0;
    match suffix {
        "" => {}
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        "Ki" => exp2 = 10,
        "Mi" => exp2 = 20,
        "Gi" => exp2 = 30,
        "Ti" => exp2 = 40,
        "Pi" => exp2 = 50,
        "Ei" => exp2 = 60,
        _ => {
            let exponent = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let value: i32 = exponent.parse().ok()?;
            if value.abs() > 60 {
                return None;
            }
            exp10 += value;
        }
    }
    Some(Quantity {
        mantissa: sign * mantissa,
        exp10,
        exp2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kubernetes_forms() {
        assert_eq!(
            parse("500m").map(|q| (q.mantissa, q.exp10)),
            Some((500, -3))
        );
        assert_eq!(parse("2Gi").map(|q| (q.mantissa, q.exp2)), Some((2, 30)));
        assert_eq!(parse("1.5").map(|q| (q.mantissa, q.exp10)), Some((15, -1)));
        assert_eq!(parse("1e3").map(|q| (q.mantissa, q.exp10)), Some((1, 3)));
        assert_eq!(parse("-1").map(|q| q.mantissa), Some(-1));
        for bad in ["", "m", "1x", "1.2.3", "Gi", "1e", "1ee3", "--1"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
